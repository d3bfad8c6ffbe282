import { describe, expect, it } from 'vitest';
import { KeyedCounts } from '../src/delivery/keyed-counts.js';
import { OriginConnections } from '../src/delivery/sender.js';

describe('KeyedCounts', () => {
  it('counts up and down per key, returning the count before each one up', () => {
    const c = new KeyedCounts();
    expect(c.up('a')).toBe(0);
    expect(c.up('a')).toBe(1);
    expect(c.up('b')).toBe(0);
    expect(c.get('a')).toBe(2);
    c.down('a');
    expect(c.get('a')).toBe(1);
    expect(c.get('missing')).toBe(0);
  });

  it('never goes below 0, even when told down more often than up', () => {
    const c = new KeyedCounts();
    c.up('a');
    c.down('a');
    c.down('a');
    c.down('never-seen');
    expect(c.get('a')).toBe(0);
    expect(c.up('a')).toBe(0);
  });

  it('keeps a key at 0 until forgetIdle, which drops only the keys at 0', () => {
    const c = new KeyedCounts();
    c.up('idle');
    c.down('idle');
    c.up('busy');
    expect(c.size).toBe(2);
    expect([...c.busy()]).toEqual([['busy', 1]]);
    c.forgetIdle();
    expect(c.size).toBe(1);
    expect(c.get('busy')).toBe(1);
    expect(c.get('idle')).toBe(0);
  });
});

describe('OriginConnections', () => {
  it('says a send waits once every connection to its origin is taken, and frees one when a send leaves', () => {
    const o = new OriginConnections(2);
    expect(o.enter('http://a')).toBe(false);
    expect(o.enter('http://a')).toBe(false);
    expect(o.enter('http://a')).toBe(true); // the third waits for a connection
    expect(o.enter('http://b')).toBe(false); // another origin has its own
    o.leave('http://a');
    o.leave('http://a');
    expect(o.enter('http://a')).toBe(false); // one still open before it: a connection is free
    expect(o.enter('http://a')).toBe(true); // two open before it
    for (let i = 0; i < 3; i++) o.leave('http://a');
    o.leave('http://b');
    o.forgetIdle();
    expect(o.enter('http://a')).toBe(false); // all left: forgotten, and counted afresh
    expect(o.enter('http://a')).toBe(false);
    expect(o.enter('http://a')).toBe(true);
  });
});
