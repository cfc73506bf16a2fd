/**
 * Architecture rules of design §5 (see docs/architecture.md), checked by `npm run build`.
 * Dependencies point inward; the centre (expression, core, engine) does no I/O.
 */
const allowed = {
  expression: ['core'],
  core: [],
  engine: ['core', 'expression'],
  solution: ['core'],
  connectors: ['core', 'expression'],
  storage: ['core'],
  platform: ['core', 'expression', 'engine', 'solution', 'connectors', 'storage'],
  server: ['core', 'expression', 'engine', 'solution', 'connectors', 'storage', 'platform'],
  worker: ['core', 'expression', 'engine', 'solution', 'connectors', 'storage', 'platform'],
  web: [],
  cli: ['core', 'expression', 'engine', 'solution', 'connectors', 'storage', 'platform', 'server', 'worker'],
};
const dirOf = (name) => (['server', 'worker', 'web', 'cli'].includes(name) ? `apps/${name}` : `packages/${name}`);
const all = Object.keys(allowed);
const pure = ['expression', 'core', 'engine'];
const ioModules =
  '^(node:)?(fs|fs/promises|net|http|https|http2|tls|dgram|dns|child_process|cluster|worker_threads|os|process|readline|crypto)$';

module.exports = {
  forbidden: [
    ...all.map((name) => {
      const forbiddenTargets = all.filter((o) => o !== name && !allowed[name].includes(o));
      return {
        name: `import-direction-${name}`,
        comment: `${dirOf(name)} may import only: ${allowed[name].join(', ') || 'no other Patchbay package'} (design §5)`,
        severity: 'error',
        from: { path: `^${dirOf(name)}/src/` },
        to: {
          path: forbiddenTargets.length
            ? `^(${forbiddenTargets.map(dirOf).join('|')})/|node_modules/@patchbay/(${forbiddenTargets.join('|')})/`
            : '^$',
        },
      };
    }),
    {
      name: 'pure-centre-no-io',
      comment:
        'expression, core and engine do no I/O (design §5): no fs, network, processes, clock or randomness modules',
      severity: 'error',
      from: { path: `^(${pure.map(dirOf).join('|')})/src/` },
      to: { dependencyTypes: ['core'], path: ioModules },
    },
    {
      name: 'pure-centre-no-drivers',
      comment: 'expression, core and engine use no database or HTTP client libraries',
      severity: 'error',
      from: { path: `^(${pure.map(dirOf).join('|')})/src/` },
      to: { path: 'node_modules/(pg|better-sqlite3|kysely|undici|mysql2|fastify|graphile-worker)/' },
    },
    {
      name: 'one-public-entry',
      comment: 'packages are imported through their public entry (@patchbay/<name>), never by a deep path',
      severity: 'error',
      from: { path: '^(packages|apps)/([^/]+)/src/' },
      to: { path: '^(packages|apps)/([^/]+)/(?!dist/index\\.(d\\.ts|js)$)', pathNot: ['^$1/$2/'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules', '^(packages|apps)/[^/]+/dist/'] },
    exclude: { path: '(^|/)test/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
