// `npm run bench:solutions`: reading and analysing every solution package of ../shared/corpus
// (zips and unpacked trees) with @patchbay/solution, against a floor that only unzips (or reads)
// the same packages and parses the XML and JSON files the reader interprets, with the same
// libraries (yauzl, fast-xml-parser, JSON.parse). Writes the `solutions` section of BENCHMARKS.md.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import yauzl from 'yauzl';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import {
  analyzeSolution,
  readSolution,
  readSolutionZip,
  renderSolutionFiles,
  writeSolutionZip,
} from '@patchbay/solution';
import { machineLine, median, percentile, sharedDir, writeBenchSection } from './report.mjs';

const corpus = join(sharedDir(), 'corpus') + '/';
const manifest = JSON.parse(await readFile(join(corpus, 'MANIFEST.json'), 'utf8'));
const items = manifest.items.filter((i) => i.kind === 'solution-zip' || i.kind === 'unpacked-solution');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 25);
const WARMUP = 3;

// Files the reader interprets (everything else is kept as bytes, never parsed).
const interpreted = (p) =>
  /^(solution\.xml|customizations\.xml|Other\/Solution\.xml|Other\/Customizations\.xml)$/i.test(p) ||
  /^Workflows\/[^/]+\.json(\.data\.xml)?$/i.test(p) ||
  /^environmentvariabledefinitions\//i.test(p) ||
  /^Connectors?\/[^/]+\.(json|xml)$/i.test(p);

const xml = new XMLParser({ ignoreAttributes: false, processEntities: false, parseTagValue: false });

function unzipAll(buffer) {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const out = new Map();
      zip.on('error', reject);
      zip.on('end', () => resolve(out));
      zip.on('entry', (entry) => {
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const chunks = [];
          stream.on('data', (c) => chunks.push(c));
          stream.on('end', () => {
            out.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

async function readTree(root) {
  const out = new Map();
  const walk = async (dir, prefix) => {
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.isDirectory()) await walk(join(dir, e.name), `${prefix}${e.name}/`);
      else out.set(`${prefix}${e.name}`, await readFile(join(dir, e.name)));
    }
  };
  await walk(root, '');
  return out;
}

function parseInterpreted(files) {
  let n = 0;
  for (const [p, data] of files) {
    if (!interpreted(p)) continue;
    const text = data.toString('utf8').replace(/^\uFEFF/, '');
    if (/\.xml$/i.test(p)) xml.parse(text);
    else JSON.parse(text);
    n++;
  }
  return n;
}

async function floorOnce() {
  let parsed = 0;
  for (const item of items) {
    const path = join(corpus, item.path);
    const files = item.kind === 'solution-zip' ? await unzipAll(await readFile(path)) : await readTree(path);
    parsed += parseInterpreted(files);
  }
  return parsed;
}

async function patchbayOnce() {
  let findings = 0;
  for (const item of items) {
    const pkg = await readSolution(join(corpus, item.path));
    findings += analyzeSolution(pkg).findings.length;
  }
  return findings;
}

async function writeOnce(packages) {
  let bytes = 0;
  for (const pkg of packages) {
    bytes += (await writeSolutionZip(pkg)).length;
    for (const d of renderSolutionFiles(pkg, 'folder').values()) bytes += d.length;
  }
  return bytes;
}

async function measure(fn) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const times = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

// Facts about the input.
let zipBytes = 0;
let treeBytes = 0;
let interpretedFiles = 0;
let allFiles = 0;
for (const item of items) {
  const path = join(corpus, item.path);
  const files = item.kind === 'solution-zip' ? await unzipAll(await readFile(path)) : await readTree(path);
  if (item.kind === 'solution-zip') zipBytes += (await readFile(path)).length;
  else for (const d of files.values()) treeBytes += d.length;
  allFiles += files.size;
  interpretedFiles += [...files.keys()].filter(interpreted).length;
}
const zips = items.filter((i) => i.kind === 'solution-zip').length;
const trees = items.length - zips;

// Alternate the two measurements so machine noise hits both alike.
const floorTimes = [];
const patchbayTimes = [];
for (let r = 0; r < 3; r++) {
  floorTimes.push(...(await measure(floorOnce)));
  patchbayTimes.push(...(await measure(patchbayOnce)));
}
const packages = [];
for (const item of items) packages.push(await readSolution(join(corpus, item.path)));
const writeTimes = await measure(() => writeOnce(packages));
const zipOnly = items.filter((i) => i.kind === 'solution-zip');
const zipBuffers = await Promise.all(zipOnly.map((i) => readFile(join(corpus, i.path))));
const zipReadTimes = await measure(async () => {
  for (let i = 0; i < zipBuffers.length; i++) await readSolutionZip(zipBuffers[i], { name: zipOnly[i].path });
});

// Where the time goes: inflating, and building vs validating customizations.xml.
const unzipTimes = await measure(async () => {
  for (const b of zipBuffers) await unzipAll(b);
});
const customizations = [];
for (const b of zipBuffers)
  customizations.push(
    (await unzipAll(b))
      .get('customizations.xml')
      .toString('utf8')
      .replace(/^\uFEFF/, ''),
  );
const buildTimes = await measure(() => {
  for (const c of customizations) xml.parse(c);
});
const validateTimes = await measure(() => {
  for (const c of customizations) XMLValidator.validate(c);
});

const fmt = (ms) => `${ms.toFixed(1)} ms`;
const f50 = median(floorTimes);
const p50 = median(patchbayTimes);
const rows = [
  [
    'floor: unzip / read files + parse the interpreted XML and JSON (yauzl, fast-xml-parser, JSON.parse)',
    f50,
    percentile(floorTimes, 90),
  ],
  [
    'Patchbay: readSolution + analyzeSolution (caps, validation, model, connection maps, findings)',
    p50,
    percentile(patchbayTimes, 90),
  ],
  [`Patchbay: readSolutionZip only, the ${zips} zips from memory`, median(zipReadTimes), percentile(zipReadTimes, 90)],
  [
    'Patchbay: write every package back as a zip and as a tree (in memory)',
    median(writeTimes),
    percentile(writeTimes, 90),
  ],
  [
    `part of both: unzip the ${zips} zips from memory (yauzl, every entry)`,
    median(unzipTimes),
    percentile(unzipTimes, 90),
  ],
  [
    `part of the floor: build fast-xml-parser's object tree of the ${zips} customizations.xml`,
    median(buildTimes),
    percentile(buildTimes, 90),
  ],
  [
    `part of Patchbay: validate the same ${zips} customizations.xml (fast-xml-parser XMLValidator)`,
    median(validateTimes),
    percentile(validateTimes, 90),
  ],
];
const table = [
  '| what (whole corpus per round) | median | p90 |',
  '|---|---|---|',
  ...rows.map(([w, m, p]) => `| ${w} | ${fmt(m)} | ${fmt(p)} |`),
].join('\n');

const markdown = `## Solutions (\`npm run bench:solutions\`)

${machineLine()}

**Method.** One round reads every solution package of \`../shared/corpus\` (${zips} zips, ${(zipBytes / 1e6).toFixed(1)} MB; ${trees} unpacked trees, ${(treeBytes / 1e6).toFixed(1)} MB; ${allFiles} files, ${interpretedFiles} of which the reader interprets) from disk. The floor does the least any reader must: unzip every entry (or read every file of a tree) and parse the ${interpretedFiles} interpreted XML and JSON files with the same libraries, without checks or a model. Patchbay's round is \`readSolution\` + \`analyzeSolution\` per package: zip caps (the whole central directory, per-entry and overall compression ratio, before inflating), strict UTF-8 decoding, DTD refusal, XML validation (with undefined-entity and character checks), element scan for lossless writing, JSON depth checks, the model, flow connection maps and usages, findings. ${ROUNDS} rounds after ${WARMUP} warm-up rounds, repeated 3 times alternating floor and Patchbay (${floorTimes.length} samples each).

${table}

**Ratio.** read + analyse takes **${(p50 / f50).toFixed(2)}×** the floor (median over median). Writing is measured separately and is not part of the ratio.

**Why the ratio is close to 1.** Both rounds inflate every entry and read every file. The floor then builds fast-xml-parser's object tree of every customizations.xml (the largest XML files, up to 420 kB); Patchbay instead validates each document, scans element offsets (needed to re-emit it losslessly) and builds objects only for the component elements it models (\`<Workflow>\`, \`<connectionreference>\`, \`<Connector>\`), which costs about what the floor's full object tree costs. The last three rows measure those parts separately.
`;
writeBenchSection('solutions', markdown);
console.log(markdown);
