/** The grammar module of @xmldom/xmldom 0.9 (CommonJS), used by functions/xml-perf.ts. */
declare module '@xmldom/xmldom/lib/grammar.js' {
  const grammar: { reg: (...parts: Array<string | RegExp>) => RegExp };
  export default grammar;
}
