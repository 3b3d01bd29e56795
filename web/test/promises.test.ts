// Memo (data/promises.ts): each key's promise made once; a failed one is asked for again.
import { describe, expect, it } from 'vitest';
import { Memo, message, quiet } from '../src/data/promises';

describe('Memo', () => {
  it('makes each key once and hands out the same promise', async () => {
    const memo = new Memo<string, number>();
    let made = 0;
    const make = () => Promise.resolve(++made);
    const a = memo.get('a', make);
    expect(memo.get('a', make)).toBe(a);
    expect(await a).toBe(1);
    expect(await memo.get('b', make)).toBe(2);
    expect(made).toBe(2);
  });

  it('forgets a promise that rejects, so the next get tries again', async () => {
    const memo = new Memo<string, number>();
    await expect(memo.get('a', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(memo.has('a')).toBe(false);
    expect(await memo.get('a', () => Promise.resolve(5))).toBe(5);
    expect(memo.has('a')).toBe(true);
  });
});

describe('quiet and message', () => {
  it('quiet returns the same promise, which still rejects when awaited', async () => {
    const p = Promise.reject(new Error('late'));
    expect(quiet(p)).toBe(p);
    await expect(p).rejects.toThrow('late');
  });

  it('message reads errors and anything else', () => {
    expect(message(new Error('boom'))).toBe('boom');
    expect(message(404)).toBe('404');
  });
});
