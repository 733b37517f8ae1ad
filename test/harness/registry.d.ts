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
     * the htpasswd credentials, or with
     * `token` its first user's, if any
     */
    auth: {
        user: string;
        password: string;
    } | undefined;
    /**
     * with `token`: the token server (realm, log of token
     * requests, count(scope), users)
     */
    token: TokenServer | undefined;
    /**
     * with `tls`: a containers cert-dir for clients (`ca.crt`, and
     * `client.cert` + `client.key` when client certificates are required)
     */
    certDir: string | undefined;
    /**
     * with `tls`: the CA that signed the server (and client) certificates
     */
    caFile: string | undefined;
    /**
     * what the registry printed so far
     */
    logs: () => string;
    /**
     * kill the registry and remove its temp dir (idempotent)
     */
    stop: () => Promise<void>;
};
export type TokenServer = Awaited<ReturnType<typeof startTokenServer>>;
/**
 * Start a registry on 127.0.0.1 with a free port; resolves once `GET /v2/` answers 200 or 401.
 * With `tls`, it speaks HTTPS with a certificate from a private CA (see `certDir`), and with
 * `tls.clientCerts` it also demands a client certificate signed by that CA. With `token`, it wants
 * bearer tokens from a token server started with these options (see tokenserver.js), e.g.
 * `{users: [{user: 'ci', password: 'pw', refreshToken: 'rt'}], anonymousPull: true, expiresIn: 60}`.
 * @param {{htpasswd?: {user: string, password: string}, token?: import('./tokenserver').TokenOptions,
 *   tls?: {clientCerts?: boolean}, startTimeoutMs?: number}} [opts]
 * @returns {Promise<Registry>}
 */
export function startRegistry(opts?: {
    htpasswd?: {
        user: string;
        password: string;
    };
    token?: import("./tokenserver").TokenOptions;
    tls?: {
        clientCerts?: boolean;
    };
    startTimeoutMs?: number;
}): Promise<Registry>;
import { startTokenServer } from "./tokenserver";
