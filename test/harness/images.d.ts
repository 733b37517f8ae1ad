export type Auth = {
    user: string;
    password: string;
};
export type Descriptor = {
    digest: string;
    size: number;
    mediaType: string;
};
export type Platform = {
    architecture: string;
    os: string;
    variant?: string;
};
/**
 * Where fixtures go. `certDir` (a containers cert-dir: `*.crt` CAs, `client.cert` + `client.key`)
 * switches to HTTPS with that trust and client certificate.
 */
export type Target = {
    host: string;
    repo: string;
    auth?: Auth;
    certDir?: string;
};
export type RawManifest = {
    raw: Buffer;
    digest: string;
    json: any;
    mediaType: string;
};
export namespace MT {
    let ociManifest: string;
    let ociIndex: string;
    let ociConfig: string;
    let ociLayer: string;
    let dockerManifest: string;
    let dockerList: string;
    let dockerConfig: string;
    let dockerLayer: string;
    let inToto: string;
}
/** @param {Buffer|string} b */
export function sha256(b: Buffer | string): string;
/**
 * Push a tiny valid single-arch image. Same arguments give the same digest; a different `salt`
 * (or arch) gives a different layer, config and digest.
 * @param {{host: string, repo: string, tag?: string, os?: string, architecture: string, variant?: string,
 *   salt?: string, auth?: Auth, certDir?: string, mediaType?: 'oci' | 'docker'}} o
 * @returns {Promise<Descriptor & {platform: Platform}>}
 */
export function pushImage(o: {
    host: string;
    repo: string;
    tag?: string;
    os?: string;
    architecture: string;
    variant?: string;
    salt?: string;
    auth?: Auth;
    certDir?: string;
    mediaType?: "oci" | "docker";
}): Promise<Descriptor & {
    platform: Platform;
}>;
/**
 * Push an index / manifest list whose children already exist in the repository.
 * @param {{host: string, repo: string, tag?: string, auth?: Auth, certDir?: string, mediaType?: 'oci' | 'docker',
 *   manifests: Array<Descriptor & {platform?: Platform, annotations?: Record<string, string>}>,
 *   annotations?: Record<string, string>}} o
 * @returns {Promise<Descriptor>}
 */
export function pushIndex(o: {
    host: string;
    repo: string;
    tag?: string;
    auth?: Auth;
    certDir?: string;
    mediaType?: "oci" | "docker";
    manifests: Array<Descriptor & {
        platform?: Platform;
        annotations?: Record<string, string>;
    }>;
    annotations?: Record<string, string>;
}): Promise<Descriptor>;
/**
 * Push a buildx-style attestation manifest (in-toto layer, pushed by digest, no tag) for `subject`.
 * Put it in an index with `attestationEntry()`.
 * @param {{host: string, repo: string, subject: string, auth?: Auth, certDir?: string}} o
 * @returns {Promise<Descriptor>}
 */
export function pushAttestation(o: {
    host: string;
    repo: string;
    subject: string;
    auth?: Auth;
    certDir?: string;
}): Promise<Descriptor>;
/**
 * The index entry buildx writes for an attestation manifest.
 * @param {Descriptor} attestation
 * @param {string} subject  digest of the image it attests
 */
export function attestationEntry(attestation: Descriptor, subject: string): {
    platform: {
        architecture: string;
        os: string;
    };
    annotations: {
        'vnd.docker.reference.digest': string;
        'vnd.docker.reference.type': string;
    };
    digest: string;
    size: number;
    mediaType: string;
};
/**
 * Upload a blob unless the registry already has it (monolithic POST + PUT).
 * @param {Target} t
 * @param {Buffer} blob
 * @returns {Promise<string>} the blob digest
 */
export function pushBlob(t: Target, blob: Buffer): Promise<string>;
/**
 * PUT a manifest (by tag, or by its own digest when `tag` is empty).
 * @param {Target} t
 * @param {string | undefined} tag
 * @param {Buffer} bytes
 * @param {string} mediaType
 * @returns {Promise<Descriptor>}
 */
export function putManifest(t: Target, tag: string | undefined, bytes: Buffer, mediaType: string): Promise<Descriptor>;
/**
 * @typedef {{raw: Buffer, digest: string, json: any, mediaType: string}} RawManifest
 */
/**
 * `skopeo inspect --raw` of `docker://HOST/REF`: the exact bytes the registry serves and their sha256.
 * With `allowMissing`, a missing tag or repository resolves to null instead of rejecting.
 * @param {string} host
 * @param {string} ref  `repo:tag` or `repo@sha256:...`
 * @param {{auth?: Auth, authFile?: string, certDir?: string, allowMissing?: boolean}} [o]
 * @returns {Promise<RawManifest>}
 */
export function inspectRaw(host: string, ref: string, o?: {
    auth?: Auth;
    authFile?: string;
    certDir?: string;
    allowMissing?: boolean;
}): Promise<RawManifest>;
/**
 * The image config (architecture, os, variant, ...) of a single-arch image.
 * @param {string} host
 * @param {string} ref
 * @param {{auth?: Auth, authFile?: string, certDir?: string}} [o]
 * @returns {Promise<any>}
 */
export function inspectConfig(host: string, ref: string, o?: {
    auth?: Auth;
    authFile?: string;
    certDir?: string;
}): Promise<any>;
/**
 * Platforms of an index as `os/arch[/variant]` strings, sorted, attestation entries left out.
 * @param {any} index
 */
export function platformsOf(index: any): any;
/**
 * Map `os/arch[/variant]` → child digest of an index.
 * @param {any} index
 * @returns {Record<string, string>}
 */
export function digestsByPlatform(index: any): Record<string, string>;
/**
 * Delete a tag's manifest (by digest) so the tag disappears; deletes are enabled on test registries.
 * @param {string} host
 * @param {string} repo
 * @param {string} digest
 * @param {Auth} [auth]
 */
export function deleteManifest(host: string, repo: string, digest: string, auth?: Auth): Promise<void>;
/**
 * Run `skopeo <args>`; resolves with stdout as a Buffer, rejects with stderr in the message.
 * For `inspect`, plain HTTP (or, with `certDir`, verified HTTPS with that cert-dir) and the given
 * credentials (or none: `--no-creds`) are added.
 * @param {string[]} args
 * @param {{auth?: Auth, authFile?: string, certDir?: string}} [o]
 * @returns {Promise<Buffer>}
 */
export function skopeo(args: string[], o?: {
    auth?: Auth;
    authFile?: string;
    certDir?: string;
}): Promise<Buffer>;
