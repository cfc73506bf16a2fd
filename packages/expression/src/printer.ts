/**
 * Prints an AST back to definition text. `parseExpression(printExpression(ast))` gives the same
 * AST (ignoring positions) for every AST the parser produces; the output is canonical
 * (`f(a, b)`, `'it''s'`, floats always with a `.` or an exponent).
 */
import type { ExpressionNode, TemplateNode } from './ast.js';
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
      const target = printExpressionBody(node.target);
      const q = node.optional ? '?' : '';
      // a space keeps `5 .x` from reading as the float `5.` followed by `x`
      const sep = node.target.kind === 'number' && !q ? ' ' : '';
      if (node.dot && node.key.kind === 'string' && isIdentifier(node.key.value))
        return `${target}${sep}${q}.${node.key.value}`;
      return `${target}${q}[${printExpressionBody(node.key)}]`;
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
