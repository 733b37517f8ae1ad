export type Match = {
    method?: string | string[];
    path?: RegExp | string;
};
export type Fault = {
    kind: "status";
    status: number;
    left: number;
    match?: Match;
    retryAfter?: number;
} | {
    kind: "cut";
    left: number;
    match?: Match;
} | {
    kind: "down";
    left: number;
    match?: Match;
} | {
    kind: "hang";
    left: number;
    match?: Match;
};
/**
 * `accept`: the Accept header a request to the store of redirectBlobs() or redirectManifests() carried.
 * `mode`: which of challenges(), dropDigestOnHead(), redirectBlobs() or redirectManifests(), otherBytesByDigest(),
 * headDigest(), bearerRealm(), redirectNext(), answerNext(), cutBodyNext(), chunkedBlobs(), bearerService() changed the answer
 */
export type LogEntry = {
    method: string;
    path: string;
    status: number | "cut" | "hang" | "held" | "error";
    fault: boolean;
    conn: number;
    mode?: "challenges" | "drop-digest" | "redirect" | "other-bytes" | "head-digest" | "realm" | "redirect-loop" | "answer" | "cut-body" | "chunked" | "service";
    accept?: string;
};
export type LieKind = "drop-annotations" | "lose-entry" | "other-list";
export type ChallengeMode = "one-line" | "forgejo" | "two-lines" | "basic-first-one-line";
export type Buffered = {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: Buffer;
};
/**
 * The proxy: a server that forwards to the registry, composed with one module per fault
 * (test/harness/faults/), each holding its own state; the API below plans and ends them.
 * @param {{target: string, latencyMs?: number, tls?: {cert: string, key: string}}} opts  target is `host:port` of the registry
 */
export function startProxy(opts: {
    target: string;
    latencyMs?: number;
    tls?: {
        cert: string;
        key: string;
    };
}): Promise<{
    host: string;
    url: string;
    port: number;
    target: string;
    counts: Record<string, number>;
    log: LogEntry[];
    /** Answer the next `n` matching requests with `status` (503, 429, 502, ...). */
    failNext(n: number, status?: number, match?: Match & {
        retryAfter?: number;
    }): void;
    /**
     * Answer the next `n` matching requests with `status` and `body` (sent as JSON, as it is): an error
     * document of another shape than the registry's, say.
     * @param {number} n
     * @param {number} status
     * @param {string} body
     * @param {Match} [match]
     */
    answerNext(n: number, status: number, body: string, match?: Match): void;
    /**
     * The next `n` matching requests get the registry's status line and headers, with its full
     * Content-Length, and half of its body; then their connection is destroyed.
     * @param {number} n
     * @param {Match} [match]
     */
    cutBodyNext(n: number, match?: Match): void;
    /** Answer every matching request with `status` until clearFaults() (`pending()` is then Infinity). */
    failAlways(status: number, match?: Match & {
        retryAfter?: number;
    }): void;
    /** Destroy the socket of the next `n` matching requests without answering. */
    cutNext(n: number, match?: Match): void;
    /**
     * Until stopCutting() / clearFaults(), cut each new connection (before answering its first
     * request) with probability `rate`; with `match`, cut each matching request instead, whatever its
     * connection. Random rather than every n-th, which can line up with a client's fixed sequence of
     * requests; seeded so a failure can be replayed. Cuts are logged with status 'cut'.
     * @param {number} rate  0..1
     * @param {{seed?: number, match?: Match}} [o]
     * @returns {number} the seed used (a random one when none is given): print it to replay a failure
     */
    cutRandomly(rate: number, o?: {
        seed?: number;
        match?: Match;
    }): number;
    /** End cutRandomly(). */
    stopCutting(): void;
    /** Accept the next `n` matching requests and never answer them (see `hanging()`, `release()`). */
    hangNext(n: number, match?: Match): void;
    /** Accept every (matching) request and never answer it, until release() or clearFaults(). */
    hangAll(match?: Match): void;
    /**
     * How many requests are being held unanswered right now.
     * @returns {number}
     */
    hanging(): number;
    /** Drop the held requests' connections, and end hangAll(). */
    release(): void;
    /** Go down (refuse connections) when the first request matching `match` arrives. */
    downWhen(match: Match): void;
    /**
     * After each successful PUT of a manifest by tag (not by digest), GET/HEAD of that tag serve what
     * it served before the PUT (404 if nothing) for `ms` ms, like a registry whose reads lag its
     * writes. Another PUT within the window restarts it and keeps the original old manifest.
     * 0 (or clearFaults()) turns it off. The old manifest is read with the PUT's credentials.
     * @param {number} ms
     * @param {Match} [match]  only PUTs matching this start a window
     */
    staleAfterPut(ms: number, match?: Match): void;
    /**
     * Until clearFaults(), GET/HEAD of a manifest by tag that is an index / manifest list is answered
     * with a doctored list, with its own Docker-Content-Digest and Content-Length (reads by digest are
     * left alone: a lie there is detectable). Kinds: 'drop-annotations' (the index-level
     * annotations), 'lose-entry' (the last entry of `manifests`), 'other-list' (a different valid
     * list: entries reversed, an annotation added). Several lies apply in the order given.
     * @param {LieKind} kind
     * @param {{match?: Match}} [o]
     */
    lie(kind: LieKind, o?: {
        match?: Match;
    }): void;
    /**
     * When the first request matching `match` arrives, await `fn()` before forwarding it (once).
     * Resolves when fn has finished, rejects with its error (the request is forwarded either way);
     * rejects if clearFaults()/stop() come first.
     * @param {Match} match
     * @param {() => unknown} fn
     * @returns {Promise<void>}
     */
    onFirst(match: Match, fn: () => unknown): Promise<void>;
    /** Hold every matching request (neither answered nor forwarded) until releaseHeld(). */
    holdWhen(match: Match): void;
    /** Stop holding, and forward the held requests as usual. */
    releaseHeld(): void;
    /**
     * How many requests are held by holdWhen() right now.
     * @returns {number}
     */
    held(): number;
    /**
     * Resolves once at least `n` requests are held by holdWhen().
     * @returns {Promise<void>}
     */
    whenHeld(n?: number): Promise<void>;
    /**
     * Until clearFaults() (or challenges(undefined)), each 401 answer carries the registry's challenge
     * and another one a client must not pick: Basic for a Bearer registry (the realm stays the real
     * token server's), Negotiate for a Basic one.
     *   'one-line'              `Bearer realm="…",service="…",scope="…", Basic realm="…"` in one header
     *                           (what Forgejo/Codeberg send; a naive parser takes the last realm)
     *   'forgejo'               as 'one-line', and a challenge without a scope gets Forgejo's `scope="*"`
     *   'two-lines'             two WWW-Authenticate headers, the other challenge first
     *   'basic-first-one-line'  `Basic realm="…", Bearer realm="…",…` in one header
     * @param {ChallengeMode | undefined} mode
     */
    challenges(mode: ChallengeMode | undefined): void;
    /** Until clearFaults(), HEAD answers lack Docker-Content-Digest (and ETag), as some registries' do. */
    dropDigestOnHead(on?: boolean): void;
    /**
     * Until clearFaults() (or redirectBlobs(false)), a blob GET is answered 307 to a store on another
     * loopback address (127.0.0.2, like S3 or a CDN): the proxy reads the blob from the registry with
     * the client's Authorization, and the store serves it to a request without one, answering 400
     * (S3's "Only one auth mechanism allowed") to one with it; see refusedForAuth(), `blobLog`.
     * Answers other than 200 (401, 404) come back from the proxy as the registry gave them.
     * @returns {Promise<void>} once the store listens
     */
    redirectBlobs(on?: boolean): Promise<void>;
    /**
     * Until clearFaults() (or otherBytesByDigest(false)), a GET of a manifest by digest (with
     * `what` 'blobs': of a blob, such as a config) is answered with other bytes (its JSON indented)
     * whose Docker-Content-Digest still names the digest asked for, as a broken cache or a tampering
     * mirror would; only a client that hashes what it read notices.
     * @param {boolean} [on]
     * @param {'manifests' | 'blobs'} [what]
     */
    otherBytesByDigest(on?: boolean, what?: "manifests" | "blobs"): void;
    /**
     * Until clearFaults() (or headDigest(undefined)), HEAD answers of manifests carry Docker-Content-Digest
     * `value` (another digest, or a malformed one) instead of the registry's, as a broken cache would.
     * @param {string | undefined} value
     */
    headDigest(value: string | undefined): void;
    /**
     * Until clearFaults() (or bearerRealm(undefined)), the Bearer challenge of a 401 answer gets
     * `realm="value"` (an ftp:// one, say), or loses its realm when `value` is null.
     * @param {string | null | undefined} value
     */
    bearerRealm(value: string | null | undefined): void;
    /**
     * Until clearFaults() (or bearerService(undefined)), the Bearer challenge of a 401 answer gets
     * `service="value"`, or loses its service when `value` is null.
     * @param {string | null | undefined} value
     */
    bearerService(value: string | null | undefined): void;
    /** Until clearFaults() (or chunkedBlobs(false)), blob GETs answered 200 come chunked, without Content-Length. */
    chunkedBlobs(on?: boolean): void;
    /**
     * Answer the next `n` matching requests with a 307 to their own URL: with Infinity, a redirect
     * loop until clearFaults().
     * @param {number} n
     * @param {Match} [match]
     */
    redirectNext(n: number, match?: Match): void;
    /**
     * Until clearFaults() (or redirectManifests(false)), a manifest GET is answered 307 to a store on
     * 127.0.0.2 that refuses requests with an Authorization header, as redirectBlobs() does for blobs;
     * see manifestLog, refusedManifestsForAuth().
     * @returns {Promise<void>} once the store listens
     */
    redirectManifests(on?: boolean): Promise<void>;
    /**
     * Requests to the manifest store of redirectManifests().
     * @type {LogEntry[]}
     */
    manifestLog: LogEntry[];
    /**
     * Requests the manifest store refused for carrying an Authorization header.
     * @returns {number}
     */
    refusedManifestsForAuth(): number;
    /**
     * Requests to the blob store of redirectBlobs(), with their `conn`.
     * @type {LogEntry[]}
     */
    blobLog: LogEntry[];
    /**
     * Requests the blob store refused for carrying an Authorization header.
     * @returns {number}
     */
    refusedForAuth(): number;
    /**
     * Faults planned but not consumed yet.
     * @returns {number}
     */
    pending(): number;
    /**
     * End every fault: planned ones, failAlways, random cuts, hangAll (and drop the hung
     * connections), stale reads, lies, onFirst hooks not fired yet; held requests go on.
     */
    clearFaults(): void;
    setLatency(ms: number): void;
    /** Zero the counters and the logs. */
    reset(): void;
    /** Requests seen for one method (0 if none). */
    count(method: string): number;
    /** Writes seen: POST + PUT + PATCH + DELETE. */
    writes(): number;
    isUp(): boolean;
    /** Refuse connections: close the listener and drop open connections. */
    down(): Promise<void>;
    /** Serve again on the same port. */
    up(): Promise<void>;
    stop(): Promise<void>;
}>;
import http = require("node:http");
