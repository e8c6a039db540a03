// One rank of the data-parallel test: runs every case in one c10d group (started by launchRanks).
import path from 'node:path';
import { CASES, runCase } from './dp-cases.ts';

const [work, outRoot] = process.argv.slice(2) as [string, string];
for (const c of CASES) await runCase(work, c, path.join(outRoot, c));
