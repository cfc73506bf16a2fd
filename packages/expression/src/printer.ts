/**
 * Prints an AST back to definition text. `parseExpression(printExpression(ast))` gives the same
 * AST (ignoring positions) for every AST the parser produces; the output is canonical
 * (`f(a, b)`, `'it''s'`, floats always with a `.` or an exponent).
 */
import type { AccessExpression, ExpressionNode, TemplateNode } from './ast.js';
import { isIdentCode } from './parser.js';

/** Prints a number literal so that it parses back to the same value and int/float kind. */
export function printNumber(value: number | bigint, float: boolean): string {
  if (typeof value === 'bigint') return value.toString();
  if (!float) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return (Object.is(value, -0) ? '-' : '') + value.toFixed(1);
  const text = String(value);
  return text.includes('.') || text.includes('e') ? text : text + '.0';
}

/** True when `name` can be written after a `.` accessor. */
export function isIdentifier(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) if (!isIdentCode(name.charCodeAt(i))) return false;
  return true;
}

/** Prints an expression body (no leading `@`). */
export function printExpressionBody(node: ExpressionNode): string {
  switch (node.kind) {
    case 'string':
      return "'" + node.value.replaceAll("'", "''") + "'";
    case 'number':
      return printNumber(node.value, node.float);
    case 'boolean':
      return node.value ? 'true' : 'false';
    case 'null':
      return 'null';
    case 'call':
      return node.name + '(' + node.args.map(printExpressionBody).join(', ') + ')';
    case 'access': {
      // iterative along the chain (chains may be longer than the call stack is deep)
      const chain: AccessExpression[] = [];
      let n: ExpressionNode = node;
      while (n.kind === 'access') {
        chain.push(n);
        n = n.target;
      }
      let out = printExpressionBody(n);
      for (let i = chain.length - 1; i >= 0; i--) {
        const a = chain[i] as AccessExpression;
        const q = a.optional ? '?' : '';
        // a space keeps `5 .x` from reading as the float `5.` followed by `x`
        const sep = a.target.kind === 'number' && !q ? ' ' : '';
        if (a.dot && a.key.kind === 'string' && isIdentifier(a.key.value)) out += `${sep}${q}.${a.key.value}`;
        else out += `${q}[${printExpressionBody(a.key)}]`;
      }
      return out;
    }
  }
}

/** Prints a parsed definition string (see `parseExpression`). */
export function printExpression(ast: TemplateNode | ExpressionNode): string {
  switch (ast.kind) {
    case 'literal':
      return ast.value.charCodeAt(0) === 64 ? '@' + ast.value : ast.value;
    case 'expression':
      return '@' + printExpressionBody(ast.body);
    case 'interpolation':
      return ast.parts
        .map((p) => (p.kind === 'text' ? p.value.replaceAll('@{', '@@{') : '@{' + printExpressionBody(p.body) + '}'))
        .join('');
    default:
      return printExpressionBody(ast);
  }
}
