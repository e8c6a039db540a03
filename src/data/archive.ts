/**
 * Extracting single members from downloaded archives (`.zip` for BEIR, `.tar.gz` for MS MARCO and
 * Cranfield) without unpacking the rest. Members land atomically (temp + rename).
 * @module
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import yauzl from 'yauzl';

function notFound(archive: string, member: string): Error {
  return new Error(
    `lion: '${member}' not found in ${archive}; hint: the archive layout changed; delete it from the cache and retry, or use LION_DATA_MIRROR`,
  );
}

async function extractZipMember(archive: string, member: string, tmp: string): Promise<void> {
  const zip = await new Promise<yauzl.ZipFile>((res, rej) =>
    yauzl.open(archive, { lazyEntries: true }, (e, z) => (e ? rej(e) : res(z))),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', () => reject(notFound(archive, member)));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName !== member) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          pipeline(stream, createWriteStream(tmp)).then(resolve, reject);
        });
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

async function extractTarMember(archive: string, member: string, tmpDir: string): Promise<string> {
  const want = member.replace(/^\.\//, '');
  let found = false;
  await tar.x({
    file: archive,
    cwd: tmpDir,
    filter: (p) => {
      const hit = p.replace(/^\.\//, '') === want;
      found ||= hit;
      return hit;
    },
  });
  if (!found) throw notFound(archive, member);
  return join(tmpDir, want);
}

/** Extracts `member` of `archive` (.zip or .tar.gz/.tgz) to `dest`. */
export async function extractMember(archive: string, member: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const tmpDir = await mkdtemp(join(dirname(dest), '.extract-'));
  try {
    if (archive.endsWith('.zip')) {
      const tmp = join(tmpDir, 'member');
      await extractZipMember(archive, member, tmp);
      await rename(tmp, dest);
    } else if (/\.(tar\.gz|tgz)$/.test(archive)) {
      await rename(await extractTarMember(archive, member, tmpDir), dest);
    } else {
      throw new Error(`lion: cannot extract from '${archive}'; hint: archives must be .zip or .tar.gz`);
    }
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
}
