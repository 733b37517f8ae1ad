export type Registry = {
    /**
     * `127.0.0.1:PORT`, usable as a registry prefix
     */
    host: string;
    /**
     * `http://127.0.0.1:PORT`
     */
    url: string;
    port: number;
    /**
     * the registry's temp dir (config.yml, data/, htpasswd)
     */
    dir: string;
    /**
     * the htpasswd credentials, if any
     */
    auth: {
        user: string;
        password: string;
    } | undefined;
    /**
     * what the registry printed so far
     */
    logs: () => string;
    /**
     * kill the registry and remove its temp dir (idempotent)
     */
    stop: () => Promise<void>;
};
/**
 * @typedef {object} Registry
 * @property {string} host  `127.0.0.1:PORT`, usable as a registry prefix
 * @property {string} url   `http://127.0.0.1:PORT`
 * @property {number} port
 * @property {string} dir   the registry's temp dir (config.yml, data/, htpasswd)
 * @property {{user: string, password: string} | undefined} auth  the htpasswd credentials, if any
 * @property {() => string} logs  what the registry printed so far
 * @property {() => Promise<void>} stop  kill the registry and remove its temp dir (idempotent)
 */
/**
 * Start a registry on 127.0.0.1 with a free port; resolves once `GET /v2/` answers 200 or 401.
 * @param {{htpasswd?: {user: string, password: string}, startTimeoutMs?: number}} [opts]
 * @returns {Promise<Registry>}
 */
export function startRegistry(opts?: {
    htpasswd?: {
        user: string;
        password: string;
    };
    startTimeoutMs?: number;
}): Promise<Registry>;
/**
 * A port that was free a moment ago on 127.0.0.1.
 * @returns {Promise<number>}
 */
export function freePort(): Promise<number>;
