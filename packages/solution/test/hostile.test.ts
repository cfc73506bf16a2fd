/**
 * Hostile input (design §6): zip bomb, zip-slip, billion laughs, truncated zip, invalid and
 * too-deep JSON, a flow using a connection key its map lacks. Inputs are built here from real
 * corpus packages; every error names the file (and line or JSON path) and nothing is written.
 */
import { describe, expect, it } from 'vitest';
import { mkdir, readFile, symlink, writeFile, cp, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isPatchbayError, type PatchbayError } from '@patchbay/core';
import {
  analyzeSolution,
  parseDeploymentSettings,
  parseSolutionFiles,
  readSolution,
  readSolutionZip,
  writeZipEntries,
  renderSolutionFiles,
  writeSolutionFolder,
} from '@patchbay/solution';
import { corpusPath, corpusZipEntries, patchCentralDirectorySize, tempDir, zipWithRenamedEntry } from './helpers.js';

async function caught(p: Promise<unknown> | (() => unknown)): Promise<PatchbayError> {
  try {
    if (typeof p === 'function') p();
    else await p;
  } catch (e) {
    if (isPatchbayError(e)) return e;
    throw e;
  }
  throw new Error('expected an error');
}

const FLOW = 'Workflows/PowerPlatformBlogUpdates-369D136B-ECC3-ED11-83FF-000D3AB474C9.json';
const BLOG_ZIP = 'solutions/zip/power-platform-blog-updates.zip';

describe('zip container', () => {
  it('refuses a zip bomb (one highly compressible large entry) before inflating it', async () => {
    const entries = await corpusZipEntries(BLOG_ZIP);
    entries.set('CanvasApps/bomb.bin', Buffer.alloc(24 * 1024 * 1024));
    const bomb = await writeZipEntries(entries);
    expect(bomb.length).toBeLessThan(200 * 1024);
    const e = await caught(readSolutionZip(bomb, { name: 'bomb.zip' }));
    expect(e.code).toBe('ZIP_COMPRESSION_RATIO');
    expect(e.category).toBe('invalid');
    expect(e.details).toMatchObject({ file: 'bomb.zip', entry: 'CanvasApps/bomb.bin' });
    expect(e.details['ratio']).toBeGreaterThan(100);
  });

  it('refuses a bomb split into entries just under the per-entry ratio threshold (overall ratio)', async () => {
    const entries = await corpusZipEntries('solutions/zip/always-reply-to-request.zip');
    const zeros = Buffer.alloc(1024 * 1024 - 1);
    for (let i = 0; i < 12; i++) entries.set(`CanvasApps/part${i}.bin`, zeros);
    const bomb = await writeZipEntries(entries);
    const uncompressed = 12 * zeros.length;
    expect(uncompressed / bomb.length).toBeGreaterThan(100);
    const e = await caught(readSolutionZip(bomb, { name: 'split.zip' }));
    expect(e.code).toBe('ZIP_COMPRESSION_RATIO');
    expect(e.details).toMatchObject({ file: 'split.zip', limit: 100, zipBytes: bomb.length });
    expect(e.details['ratio']).toBeGreaterThan(100);
    expect(e.details['entry']).toBeUndefined();
    // The same entries in a zip that is not mostly zeros stay readable: real packages are ~1–12:1.
    const fine = await readSolutionZip(await readFile(corpusPath(BLOG_ZIP)), { name: 'blog.zip' });
    expect(fine.flows).toHaveLength(1);
  });

  it('stops an entry that inflates beyond the size its header declares', async () => {
    const entries = await corpusZipEntries(BLOG_ZIP);
    entries.set('CanvasApps/liar.bin', Buffer.alloc(8 * 1024 * 1024, 7));
    const lying = patchCentralDirectorySize(await writeZipEntries(entries), 'CanvasApps/liar.bin', 1000);
    const e = await caught(readSolutionZip(lying, { name: 'liar.zip' }));
    expect(e.code).toMatch(/^ZIP_(TOO_LARGE|INVALID)$/);
    expect(e.details).toMatchObject({ file: 'liar.zip', entry: 'CanvasApps/liar.bin' });
  });

  it('caps the total uncompressed size and the entry count', async () => {
    const data = await readFile(corpusPath(BLOG_ZIP));
    const big = await caught(readSolutionZip(data, { name: 'blog.zip', limits: { maxTotalBytes: 50_000 } }));
    expect(big.code).toBe('ZIP_TOO_LARGE');
    const many = await caught(readSolutionZip(data, { name: 'blog.zip', limits: { maxEntries: 10 } }));
    expect(many.code).toBe('ZIP_TOO_MANY_ENTRIES');
    expect(many.details).toMatchObject({ entries: 30, limit: 10 });
  });

  it('refuses entries that escape the package (zip-slip, absolute paths)', async () => {
    const entries = await corpusZipEntries(BLOG_ZIP);
    entries.set('XX/evil.txt', Buffer.from('owned'));
    const slip = await zipWithRenamedEntry(entries, 'XX/evil.txt', '../evil.txt');
    const e = await caught(readSolutionZip(slip, { name: 'slip.zip' }));
    expect(e.code).toBe('ZIP_ENTRY_PATH_INVALID');
    expect(e.message).toContain('../evil.txt');
    expect(e.details['file']).toBe('slip.zip');

    const entries2 = await corpusZipEntries(BLOG_ZIP);
    entries2.set('Xtmp/evil.txt', Buffer.from('owned'));
    const abs = await zipWithRenamedEntry(entries2, 'Xtmp/evil.txt', '/tmp/evil.txt');
    expect((await caught(readSolutionZip(abs, { name: 'abs.zip' }))).code).toBe('ZIP_ENTRY_PATH_INVALID');
  });

  it('reports a truncated zip as not readable, naming the file', async () => {
    const data = await readFile(corpusPath(BLOG_ZIP));
    const e = await caught(readSolutionZip(data.subarray(0, Math.floor(data.length / 2)), { name: 'truncated.zip' }));
    expect(e.code).toBe('ZIP_INVALID');
    expect(e.message).toContain('truncated.zip');
  });

  it('reports a zip without solution.xml as a missing part', async () => {
    const entries = await corpusZipEntries(BLOG_ZIP);
    entries.delete('solution.xml');
    const e = await caught(readSolutionZip(await writeZipEntries(entries), { name: 'nosolution.zip' }));
    expect(e.code).toBe('SOLUTION_PART_MISSING');
    expect(e.details).toMatchObject({ part: 'solution.xml' });
  });
});

describe('XML', () => {
  const laughs = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE lolz [',
    ' <!ENTITY lol "lol">',
    ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">',
    ' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">',
    ']>',
    '<ImportExportXml><Workflows /><connectionreferences><connectionreference connectionreferencelogicalname="x"><connectionreferencedisplayname>&lol3;</connectionreferencedisplayname></connectionreference></connectionreferences></ImportExportXml>',
  ].join('\n');

  it('refuses a billion-laughs customizations.xml without expanding anything', async () => {
    const entries = await corpusZipEntries(BLOG_ZIP);
    entries.set('customizations.xml', Buffer.from(laughs));
    const e = await caught(readSolutionZip(await writeZipEntries(entries), { name: 'laughs.zip' }));
    expect(e.code).toBe('XML_DOCTYPE_FORBIDDEN');
    expect(e.details).toMatchObject({ file: 'laughs.zip:customizations.xml', line: 2, column: 1 });
  });

  it('refuses an external entity in an environment variable definition of a folder', async () => {
    const dir = await tempDir();
    await cp(corpusPath('solutions/unpacked/power-platform-blog-updates'), join(dir, 'tree'), { recursive: true });
    const def = join(
      dir,
      'tree',
      'environmentvariabledefinitions',
      'natiturt_EmailSubject',
      'environmentvariabledefinition.xml',
    );
    await writeFile(
      def,
      '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<environmentvariabledefinition schemaname="natiturt_EmailSubject"><defaultvalue>&xxe;</defaultvalue><type>100000000</type></environmentvariabledefinition>',
    );
    const e = await caught(readSolution(join(dir, 'tree')));
    expect(e.code).toBe('XML_DOCTYPE_FORBIDDEN');
    expect(String(e.details['file'])).toContain('natiturt_EmailSubject/environmentvariabledefinition.xml');
  });

  it('reports malformed XML with file, line and column', async () => {
    const entries = await corpusZipEntries(BLOG_ZIP);
    const text = entries.get('customizations.xml')?.toString('utf8') ?? '';
    entries.set(
      'customizations.xml',
      Buffer.from(text.replace('</connectionreferencedisplayname>', '</connectionreferencedisplaynam>')),
    );
    const e = await caught(readSolutionZip(await writeZipEntries(entries), { name: 'bad.zip' }));
    expect(e.code).toBe('XML_INVALID');
    expect(e.details['file']).toBe('bad.zip:customizations.xml');
    expect(e.details['line']).toBeGreaterThan(1);
  });

  it('refuses undefined entities, &#0; and characters XML does not allow, with line and column', async () => {
    const entries = await corpusZipEntries(BLOG_ZIP);
    const cust = entries.get('customizations.xml')?.toString('utf8') ?? '';
    const tag = '<connectionreferencedisplayname>';
    const at = cust.indexOf(tag) + tag.length;
    const line = cust.slice(0, at).split('\n').length;
    const column = at - cust.lastIndexOf('\n', at - 1);
    const read = async (inner: string): Promise<PatchbayError> => {
      const files = new Map(entries);
      const text = cust.slice(0, at) + inner + cust.slice(cust.indexOf('</connectionreferencedisplayname>', at));
      files.set('customizations.xml', Buffer.from(text, 'utf8'));
      return caught(readSolutionZip(await writeZipEntries(files), { name: 'ent.zip' }));
    };
    const e = await read('API&nbsp;Football &amp; &#x41; &bogus; &#0;');
    expect(e.code).toBe('XML_INVALID');
    expect(e.message).toContain('&nbsp;');
    expect(e.details).toMatchObject({ file: 'ent.zip:customizations.xml', line, column: column + 3 });
    const zero = await read('API Football &amp; &#x41; &#0;');
    expect(zero.code).toBe('XML_INVALID');
    expect(zero.details).toMatchObject({ line, column: column + 'API Football &amp; &#x41; '.length });
    expect((await read('API &#xD800; x')).code).toBe('XML_INVALID');
    expect((await read('API &amp x')).code).toBe('XML_INVALID');
    expect((await read('API &toString; x')).code).toBe('XML_INVALID');
    expect((await read('API \u0001 x')).code).toBe('XML_INVALID');
    // The predefined entities and valid character references are decoded.
    const files = new Map(entries);
    files.set(
      'customizations.xml',
      Buffer.from(
        cust.slice(0, at) +
          'API &amp; &#x41;&#66; &lt;&gt;&quot;&apos;' +
          cust.slice(cust.indexOf('</connectionreferencedisplayname>', at)),
        'utf8',
      ),
    );
    const pkg = await readSolutionZip(await writeZipEntries(files), { name: 'ok.zip' });
    expect(pkg.connectionReferences.map((r) => r.displayName)).toContain('API & AB <>"\'');
  });

  it('caps element depth', async () => {
    const entries = await corpusZipEntries(BLOG_ZIP);
    entries.set('solution.xml', Buffer.from('<a>'.repeat(400) + '</a>'.repeat(400)));
    const e = await caught(readSolutionZip(await writeZipEntries(entries), { name: 'deep.zip' }));
    expect(e.code).toBe('XML_TOO_DEEP');
  });
});

describe('flow JSON', () => {
  it('reports invalid JSON in a flow with the file and line', async () => {
    const entries = await corpusZipEntries(BLOG_ZIP);
    const text = entries.get(FLOW)?.toString('utf8') ?? '';
    const lines = text.split('\n');
    lines[9] = (lines[9] ?? '') + ' ,,';
    entries.set(FLOW, Buffer.from(lines.join('\n')));
    const e = await caught(readSolutionZip(await writeZipEntries(entries), { name: 'badflow.zip' }));
    expect(e.code).toBe('JSON_INVALID');
    expect(e.details['file']).toBe(`badflow.zip:${FLOW}`);
    expect(e.details['line']).toBe(10);
  });

  it('caps JSON depth and size', async () => {
    const entries = await corpusZipEntries(BLOG_ZIP);
    entries.set(FLOW, Buffer.from('['.repeat(5000) + ']'.repeat(5000)));
    const deep = await caught(readSolutionZip(await writeZipEntries(entries), { name: 'deep.zip' }));
    expect(deep.code).toBe('JSON_TOO_DEEP');
    expect(deep.details).toMatchObject({ file: `deep.zip:${FLOW}`, line: 1, column: 257 });
    const data = await readFile(corpusPath(BLOG_ZIP));
    const large = await caught(readSolutionZip(data, { name: 'blog.zip', limits: { maxJsonBytes: 1000 } }));
    expect(large.code).toBe('JSON_TOO_LARGE');
  });

  it('reports a flow JSON of the wrong shape with the JSON path', async () => {
    const entries = await corpusZipEntries(BLOG_ZIP);
    const flow = JSON.parse(entries.get(FLOW)?.toString('utf8') ?? '') as {
      properties: { connectionReferences: unknown };
    };
    flow.properties.connectionReferences = { shared_rss_1: 'not an object' };
    entries.set(FLOW, Buffer.from(JSON.stringify(flow)));
    const e = await caught(readSolutionZip(await writeZipEntries(entries), { name: 'shape.zip' }));
    expect(e.code).toBe('FLOW_SHAPE_INVALID');
    expect(e.details).toMatchObject({
      file: `shape.zip:${FLOW}`,
      path: '$.properties.connectionReferences.shared_rss_1',
    });
  });

  it('reads a flow whose host.connectionName is not in its map, and the analysis reports it', async () => {
    const zip = 'solutions/zip/sharepoint-list-update-created-by.zip';
    const entries = await corpusZipEntries(zip);
    const flowPath = [...entries.keys()].find((p) => p.startsWith('Workflows/')) as string;
    const text = entries.get(flowPath)?.toString('utf8') ?? '';
    expect(text).toContain('"connectionName": "shared_sharepointonline-1"');
    entries.set(
      flowPath,
      Buffer.from(
        text.replace('"connectionName": "shared_sharepointonline-1"', '"connectionName": "shared_sharepointonline-9"'),
      ),
    );
    const pkg = await readSolutionZip(await writeZipEntries(entries), { name: 'unmapped.zip' });
    expect(pkg.flows[0]?.unmappedUses).toEqual([
      expect.objectContaining({
        key: 'shared_sharepointonline-9',
        kind: 'action',
        type: 'OpenApiConnection',
        operationId: 'HttpRequest',
      }),
    ]);
    const a = analyzeSolution(pkg);
    const finding = a.findings.find((f) => f.code === 'CONNECTION_KEY_NOT_IN_MAP');
    expect(finding).toMatchObject({ severity: 'error', key: 'shared_sharepointonline-9' });
    expect(finding?.details).toMatchObject({ file: flowPath });
    expect(a.findings.some((f) => f.code === 'CONNECTION_KEY_UNUSED' && f.key === 'shared_sharepointonline-1')).toBe(
      true,
    );
  });

  it('refuses an action whose host names its connection with something other than a string', async () => {
    const zip = 'solutions/zip/sharepoint-list-update-created-by.zip';
    const entries = await corpusZipEntries(zip);
    const flowPath = [...entries.keys()].find((p) => p.startsWith('Workflows/')) as string;
    const text = entries.get(flowPath)?.toString('utf8') ?? '';
    for (const [bad, path] of [
      ['"connectionName": 5', '.inputs.host.connectionName'],
      ['"connectionName": ""', '.inputs.host.connectionName'],
      ['"connection": {"name": ["x"]}', '.inputs.host.connection.name'],
    ] as const) {
      const files = new Map(entries);
      files.set(flowPath, Buffer.from(text.replace('"connectionName": "shared_sharepointonline-1"', bad)));
      const e = await caught(readSolutionZip(await writeZipEntries(files), { name: 'host.zip' }));
      expect(e.code, bad).toBe('FLOW_SHAPE_INVALID');
      expect(e.details['file']).toBe(`host.zip:${flowPath}`);
      expect(String(e.details['path'])).toMatch(
        new RegExp(`^\\$\\.properties\\.definition\\.actions\\..+${path.replace(/\./g, '\\.')}$`),
      );
    }
  });

  it('finds the key of a legacy ApiConnection action in its $connections expression', async () => {
    const entries = await corpusZipEntries(BLOG_ZIP);
    const text = entries.get(FLOW)?.toString('utf8') ?? '';
    entries.set(
      FLOW,
      Buffer.from(text.replace("['shared_office365_1']['connectionId']", "['shared_office365_x']['connectionId']")),
    );
    const pkg = await readSolutionZip(await writeZipEntries(entries), { name: 'unmapped.zip' });
    expect(pkg.flows[0]?.unmappedUses).toEqual([
      expect.objectContaining({
        key: 'shared_office365_x',
        type: 'ApiConnection',
        method: 'post',
        path: 'Send_an_email',
      }),
    ]);
    expect(analyzeSolution(pkg).summary.errors).toBe(1);
  });
});

describe('text encoding', () => {
  /** `text` with the two characters after the first `after` replaced by the bytes FF FE (invalid in UTF-8). */
  function withInvalidBytes(text: string, after: string): Buffer {
    const i = text.indexOf(after);
    if (i < 0) throw new Error('marker not found');
    const at = i + after.length;
    const before = Buffer.from(text.slice(0, at), 'utf8');
    return Buffer.concat([before, Buffer.from([0xff, 0xfe]), Buffer.from(text.slice(at + 2), 'utf8')]);
  }

  it('refuses a flow JSON that is not valid UTF-8, naming file, line and column', async () => {
    const entries = await corpusZipEntries(BLOG_ZIP);
    const text = entries.get(FLOW)?.toString('utf8') ?? '';
    const lineOf = text.slice(0, text.indexOf('"Send_an_email"')).split('\n').length;
    entries.set(FLOW, withInvalidBytes(text, '"Send_'));
    const e = await caught(readSolutionZip(await writeZipEntries(entries), { name: 'bytes.zip' }));
    expect(e.code).toBe('JSON_INVALID');
    expect(e.details).toMatchObject({ file: `bytes.zip:${FLOW}`, line: lineOf, byte: 0xff });
    expect(e.message).toMatch(/not valid UTF-8/);
  });

  it('refuses customizations.xml and variable files that are not valid UTF-8', async () => {
    const entries = await corpusZipEntries(BLOG_ZIP);
    const cust = entries.get('customizations.xml')?.toString('utf8') ?? '';
    const bad = new Map(entries);
    bad.set('customizations.xml', withInvalidBytes(cust, '<connectionreferencedisplayname>'));
    const e = await caught(readSolutionZip(await writeZipEntries(bad), { name: 'bytes.zip' }));
    expect(e.code).toBe('XML_INVALID');
    expect(e.details['file']).toBe('bytes.zip:customizations.xml');
    expect(e.details['line']).toBeGreaterThan(1);
    expect(e.details['column']).toBeGreaterThan(0);

    const values = [...entries.keys()].find((p) => p.endsWith('environmentvariablevalues.json')) as string;
    const bad2 = new Map(entries);
    bad2.set(values, withInvalidBytes(entries.get(values)?.toString('utf8') ?? '', '"value": "'));
    const e2 = await caught(readSolutionZip(await writeZipEntries(bad2), { name: 'bytes.zip' }));
    expect(e2.code).toBe('JSON_INVALID');
    expect(e2.details['file']).toBe(`bytes.zip:${values}`);
  });

  it('refuses a settings file given as bytes that are not valid UTF-8, and decodes UTF-16', () => {
    const json =
      '{"EnvironmentVariables": [], "ConnectionReferences": [{"LogicalName": "a_b", "ConnectionId": "XX1", "ConnectorId": "/providers/Microsoft.PowerApps/apis/shared_rss"}]}';
    const e = (() => {
      try {
        parseDeploymentSettings(withInvalidBytes(json, '"ConnectionId": "'), { file: 's.json' });
      } catch (err) {
        return err as PatchbayError;
      }
      throw new Error('expected an error');
    })();
    expect(e.code).toBe('SETTINGS_JSON_INVALID');
    expect(e.details).toMatchObject({ file: 's.json', line: 1, column: json.indexOf('XX') + 1 });
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json, 'utf16le')]);
    expect(parseDeploymentSettings(utf16, { file: 's16.json' }).connectionReferences[0]).toMatchObject({
      logicalName: 'a_b',
      connectionId: 'XX1',
    });
  });
});

describe('folders', () => {
  it('refuses symbolic links inside a solution folder', async () => {
    const dir = await tempDir();
    await cp(corpusPath('solutions/unpacked/patch-tuesday'), join(dir, 'tree'), { recursive: true });
    await symlink('/etc/passwd', join(dir, 'tree', 'Other', 'link.xml'));
    const e = await caught(readSolution(join(dir, 'tree')));
    expect(e.code).toBe('FOLDER_SYMLINK_REFUSED');
  });

  it('skips VCS folders, OS junk and stray root files of a zip with a warning, and never writes them', async () => {
    const entries = await corpusZipEntries(BLOG_ZIP);
    const junk = [
      '.git/hooks/pre-commit',
      '.git/config',
      '__MACOSX/._customizations.xml',
      'Workflows/.DS_Store',
      'Workflows/notes.json~',
      'Thumbs.db',
      'README.md',
    ];
    for (const j of junk) entries.set(j, Buffer.from('#!/bin/sh\necho owned\n'));
    const pkg = await readSolutionZip(await writeZipEntries(entries), { name: 'junk.zip' });
    expect(pkg.files.map((f) => f.path).filter((p) => junk.includes(p))).toEqual([]);
    const ignored = pkg.warnings.filter((w) => w.code === 'ZIP_ENTRY_IGNORED');
    expect(ignored.map((w) => w.file)).toEqual([
      'junk.zip:.git/',
      'junk.zip:__MACOSX/',
      'junk.zip:Workflows/.DS_Store',
      'junk.zip:Workflows/notes.json~',
      'junk.zip:Thumbs.db',
      'junk.zip:README.md',
    ]);
    expect(ignored[0]?.message).toContain('2 entries');
    const dir = await tempDir();
    const written = await writeSolutionFolder(pkg, join(dir, 'out'));
    expect(written.filter((p) => p.startsWith('.') || p.includes('/.'))).toEqual([]);
    await expect(stat(join(dir, 'out', '.git'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses to write a path that is not part of a solution (hidden, VCS, root-level file)', async () => {
    for (const path of ['.git/hooks/pre-commit', 'CanvasApps/.DS_Store', 'x~', 'README.md']) {
      const pkg = await readSolution(corpusPath('solutions/zip/patch-tuesday.zip'));
      pkg.files.push({ path, data: Buffer.from('x') });
      const e = await caught(() => renderSolutionFiles(pkg, 'folder'));
      expect(e.code, path).toBe('SOLUTION_PATH_INVALID');
      expect(e.details['entry']).toBe(path);
    }
  });

  it('refuses to write a package whose preserved paths would escape the folder', async () => {
    const pkg = await readSolution(corpusPath('solutions/zip/patch-tuesday.zip'));
    pkg.files.push({ path: '../outside.txt', data: Buffer.from('x') });
    const e = await caught(() => renderSolutionFiles(pkg, 'folder'));
    expect(e.code).toBe('SOLUTION_PATH_INVALID');
  });

  it('refuses a WorkflowId that is not a GUID and a JsonFileName that escapes', async () => {
    const files = await corpusZipEntries('solutions/zip/patch-tuesday.zip');
    const cust = files.get('customizations.xml')?.toString('utf8') ?? '';
    const badId = new Map(files);
    badId.set(
      'customizations.xml',
      Buffer.from(cust.replace('WorkflowId="{1e7c5c7b-0884-ee11-8179-000d3a5a8520}"', 'WorkflowId="nope"')),
    );
    expect((await caught(() => parseSolutionFiles(badId, { layout: 'zip', name: 'p.zip' }))).details).toMatchObject({
      field: 'Workflow/@WorkflowId',
    });
    const escape = new Map(files);
    escape.set('customizations.xml', Buffer.from(cust.replace('<JsonFileName>/Workflows/', '<JsonFileName>/../../')));
    const e = await caught(() => parseSolutionFiles(escape, { layout: 'zip', name: 'p.zip' }));
    expect(e.code).toBe('SOLUTION_FIELD_INVALID');
    expect(e.details).toMatchObject({ field: 'Workflow/JsonFileName' });
  });

  it('writes nothing when the input is bad (the target folder is not created)', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'in'));
    const data = await readFile(corpusPath(BLOG_ZIP));
    await writeFile(join(dir, 'in', 'truncated.zip'), data.subarray(0, 100));
    await expect(readSolution(join(dir, 'in', 'truncated.zip'))).rejects.toMatchObject({ code: 'ZIP_INVALID' });
    await expect(stat(join(dir, 'out'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('replacing a folder with --allow-delete', () => {
  it('refuses a folder that is not an unpacked solution and leaves it (and its mode) as it was', async () => {
    const { mkdtemp, mkdir, writeFile, stat, readdir, chmod } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readSolution, writeSolutionFolder } = await import('@patchbay/solution');
    const root = await mkdtemp(join(tmpdir(), 'patchbay-allow-delete-'));
    await mkdir(join(root, 'data'));
    await writeFile(join(root, 'data', 'patchbay.db'), 'db');
    await writeFile(join(root, 'notes.txt'), 'mine');
    await chmod(root, 0o1777);
    const pkg = await readSolution(corpusPath('solutions/zip/patch-tuesday.zip'));
    await expect(writeSolutionFolder(pkg, root, { allowDelete: true })).rejects.toMatchObject({
      code: 'FOLDER_NOT_A_SOLUTION',
      category: 'conflict',
    });
    expect((await readdir(root)).sort()).toEqual(['data', 'notes.txt']);
    // an unpacked solution is replaced, keeping the folder's mode
    const tree = join(root, 'tree');
    await writeSolutionFolder(pkg, tree);
    await chmod(tree, 0o750);
    await writeSolutionFolder(pkg, tree, { allowDelete: true });
    expect((await stat(tree)).mode & 0o7777).toBe(0o750);
    expect((await stat(root)).mode & 0o7777).toBe(0o1777);
  });
});
