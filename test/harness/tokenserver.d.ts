/**
 * `actions`: what the user may do in any repository (default pull, push, delete)
 */
export type TokenUser = {
    user: string;
    password: string;
    refreshToken?: string;
    actions?: string[];
};
export type Access = {
    type: string;
    name: string;
    actions: string[];
};
/**
 * `grant` 'none': no credentials understood (bad grant_type, unknown path); `access`: what the token grants;
 * `clientId`: a POST's client_id; `userAgent`: who asked (the reader, skopeo, buildah)
 */
export type TokenRequest = {
    method: string;
    path: string;
    grant: "basic" | "refresh" | "password" | "anonymous" | "none";
    account: string | undefined;
    user: string | undefined;
    service: string | undefined;
    clientId: string | undefined;
    userAgent: string;
    scopes: string[];
    access: Access[];
    status: number;
    conn: number;
};
/**
 * the body of a 200 answer made from the token issued: a string is sent as it is (text/plain), anything else as JSON
 */
export type TokenShape = (issued: {
    token: string;
    expiresIn: number;
}) => string | object;
export type TokenOptions = {
    users?: TokenUser[];
    anonymousPull?: boolean;
    expiresIn?: number;
    service?: string;
    issuer?: string;
};
/**
 * @param {TokenOptions & {certFile: string, keyFile: string}} opts  the signing certificate (self-signed,
 *   also the registry's rootcertbundle) and its private key, PEM
 */
export function startTokenServer(opts: TokenOptions & {
    certFile: string;
    keyFile: string;
}): Promise<{
    url: string;
    /** What the registry's challenge names as realm. */
    realm: string;
    service: string;
    issuer: string;
    /** The signing certificate: the registry's rootcertbundle. */
    certFile: string;
    users: TokenUser[];
    /** Every token request, in order. */
    log: TokenRequest[];
    /** Whether anonymous requests get `pull` from now on (else a token with no access). */
    anonymousPull: boolean;
    /** Lifetime (s) of the tokens issued from now on: `expires_in` and the JWT's `exp`. */
    expiresIn: number;
    /**
     * From now on until answerAs(undefined), each 200 answer's body is `next(issued)` instead of
     * distribution's `{token, access_token, expires_in, issued_at}`.
     * @param {TokenShape | undefined} next
     */
    answerAs(next: TokenShape | undefined): void;
    /**
     * Token requests that asked for `scope` (all requests without an argument), whatever their outcome.
     * @param {string} [scope]  e.g. `repository:a/b:pull,push`
     */
    count(scope?: string): number;
    /** A token as the server would issue it, with the given access (for tests that talk HTTP themselves). */
    issue(sub: string | undefined, access: Access[], expiresIn?: number): string;
    stop(): Promise<void>;
}>;
