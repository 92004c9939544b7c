import * as z from 'zod';
import { defineTool, ToolInputError } from '../../authoring/define-tool.ts';

export const calculatorTool = defineTool({
  name: 'calculate',
  readOnly: true,
  description: 'Evaluates an arithmetic expression with + - * / % ^, parentheses and decimals. Use it for any arithmetic.',
  input: z.object({
    expression: z.string().min(1).max(500).describe('The expression, e.g. "(12.5 + 7) * 3 ^ 2".'),
  }),
  timeout: '5 seconds',
  handler({ expression }) {
    try {
      return { expression, value: evaluate(expression) };
    } catch (error) {
      throw new ToolInputError((error as Error).message, 'InvalidExpression');
    }
  },
});

/** A recursive-descent evaluator: numbers and operators only, never `eval`. */
export function evaluate(expression: string): number {
  const tokens = expression.match(/\d+(?:\.\d+)?(?:e[+-]?\d+)?|[-+*/%^()]|\S/gi) ?? [];
  let position = 0;
  const peek = () => tokens[position];
  const take = () => tokens[position++];

  const primary = (): number => {
    const token = take();
    if (token === undefined) throw new Error('The expression ends too early.');
    if (token === '(') {
      const value = sum();
      if (take() !== ')') throw new Error('A "(" is never closed.');
      return value;
    }
    if (token === '-') return -unary();
    if (token === '+') return unary();
    const value = Number(token);
    if (Number.isNaN(value)) throw new Error(`Unexpected "${token}": only numbers, + - * / % ^ and parentheses are allowed.`);
    return value;
  };
  const unary = (): number => primary();
  const power = (): number => {
    const base = unary();
    if (peek() === '^') {
      take();
      return base ** power();
    }
    return base;
  };
  const product = (): number => {
    let value = power();
    while (peek() === '*' || peek() === '/' || peek() === '%') {
      const operator = take();
      const right = power();
      if ((operator === '/' || operator === '%') && right === 0) throw new Error('Division by zero.');
      value = operator === '*' ? value * right : operator === '/' ? value / right : value % right;
    }
    return value;
  };
  const sum = (): number => {
    let value = product();
    while (peek() === '+' || peek() === '-') {
      value = take() === '+' ? value + product() : value - product();
    }
    return value;
  };

  const result = sum();
  if (position < tokens.length) throw new Error(`Unexpected "${tokens[position]}".`);
  if (!Number.isFinite(result)) throw new Error('The result is not a finite number.');
  return result;
}
