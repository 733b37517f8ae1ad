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
/** Where a run's claims are kept (made by ports-setup.js, jest's globalSetup). */
export const DIR_VAR: "MULTIARCH_TEST_PORTS";
import net = require("node:net");
