import * as fs from 'fs'
import * as path from 'path'
import { sha256 } from './manifest'

/**
 * A throw-away OCI image layout holding only the manifests and configs the run has read already, so
 * that buildah builds the local list without reading a registry again (each of its reads is a new
 * connection with no retry of its own). Only what `manifest add` reads goes in: no layers, which a
 * list push without `--all` never touches. containers/image's layout reader takes OCI manifests
 * only, so a Docker manifest entry is added from its registry as before.
 */
export class LocalLayout {
  private readonly names: Array<{ mediaType: string; digest: string; size: number; annotations: Record<string, string> }> = []

  private constructor(readonly dir: string) {}

  static create(parent: string): LocalLayout {
    const dir = fs.mkdtempSync(path.join(parent, 'multiarch-publish-layout-'))
    fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
    return new LocalLayout(dir)
  }

  /** Adds an image's manifest and config (both checked against their digests) and returns the `oci:` reference to it. */
  add(manifest: Buffer, config: Buffer): string {
    const digest = sha256(manifest)
    const doc = JSON.parse(manifest.toString('utf8')) as { config?: { digest?: string } }
    if (doc.config?.digest !== sha256(config)) throw new Error(`the config read for ${digest} is not the one its manifest names`)
    const name = `e${this.names.length}`
    this.write(manifest)
    this.write(config)
    this.names.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest,
      size: manifest.length,
      annotations: { 'org.opencontainers.image.ref.name': name }
    })
    fs.writeFileSync(path.join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: this.names }))
    return `oci:${this.dir}:${name}`
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true })
  }

  private write(blob: Buffer): void {
    fs.writeFileSync(path.join(this.dir, 'blobs', 'sha256', sha256(blob).slice('sha256:'.length)), blob)
  }
}
