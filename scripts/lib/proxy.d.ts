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
export type LogEntry = {
    method: string;
    path: string;
    status: number | "cut" | "hang" | "error";
    fault: boolean;
};
/**
 * @param {{target: string, latencyMs?: number, port?: number}} opts  target is `host:port` of the registry
 */
export function startProxy(opts: {
    target: string;
    latencyMs?: number;
    port?: number;
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
    /** Destroy the socket of the next `n` matching requests without answering. */
    cutNext(n: number, match?: Match): void;
    /** Accept the next `n` matching requests and never answer them (see `hanging()`, `release()`). */
    hangNext(n: number, match?: Match): void;
    /** How many requests are being held unanswered right now. */
    hanging(): number;
    /** Drop the held requests' connections. */
    release(): void;
    /** Go down (refuse connections) when the first request matching `match` arrives. */
    downWhen(match: Match): void;
    /** Faults planned but not consumed yet. */
    pending(): number;
    clearFaults(): void;
    setLatency(ms: number): void;
    /** Zero the counters and the log. */
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
