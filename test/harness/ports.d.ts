/**
 * Listen on `host` at a port of this run's own (see above); one held by something else on the
 * machine is passed over.
 * @param {net.Server} server
 * @param {string} host
 * @returns {Promise<number>} the port
 */
export function listenOnOwnPort(server: net.Server, host: string): Promise<number>;
/**
 * A port of this run's own, free a moment ago on 127.0.0.1, for a server another process binds.
 * @returns {Promise<number>}
 */
export function freePort(): Promise<number>;
/**
 * A port no other worker or live run on this machine was given before, or 0 (the kernel picks)
 * outside jest.
 * @returns {Promise<number>}
 */
export function claimPort(): Promise<number>;
/**
 * A run's directory, listening, after the directories of runs that are gone were removed.
 * @returns {Promise<{dir: string, close: () => Promise<void>}>}
 */
export function startRun(): Promise<{
    dir: string;
    close: () => Promise<void>;
}>;
/** Where a run's claims are kept (made by startRun). */
export const DIR_VAR: "MULTIARCH_TEST_PORTS";
/** Run directories in the temporary directory; a new one is made under another name and renamed once it listens. */
export const RUN_PREFIX: "multiarch-publish-ports-";
export const ALIVE: "alive.sock";
import net = require("node:net");
