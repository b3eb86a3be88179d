import { describe, expect, it } from 'vitest';
import { TappedBody, type BodyTap } from '../../src/http/body-taps';

const enc = new TextEncoder();

function recorder(name: string, log: string[]): BodyTap {
  return {
    chunk: (c) => void log.push(`${name}:chunk:${c.byteLength}`),
    end: (bytes, aborted) => void log.push(`${name}:end:${bytes}:${aborted}`),
  };
}

function source() {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  return { readable, writer: writable.getWriter() };
}

describe('one stream for every observer of a body', () => {
  it('shows each chunk to every tap and ends each once, in the order they were added', async () => {
    const log: string[] = [];
    const { readable, writer } = source();
    const body = new TappedBody(readable, recorder('watchdog', log));
    body.add(recorder('meter', log));
    body.add(recorder('lease', log));
    void writer.write(enc.encode('abc'));
    void writer.write(enc.encode('de'));
    void writer.close();
    expect(await new Response(body.stream).text()).toBe('abcde');
    expect(log).toEqual([
      'watchdog:chunk:3',
      'meter:chunk:3',
      'lease:chunk:3',
      'watchdog:chunk:2',
      'meter:chunk:2',
      'lease:chunk:2',
      'watchdog:end:5:false',
      'meter:end:5:false',
      'lease:end:5:false',
    ]);
  });

  it('ends the taps as aborted when the source errors, and passes the error on', async () => {
    const log: string[] = [];
    const { readable, writer } = source();
    const body = new TappedBody(readable, recorder('a', log));
    const reader = body.stream.getReader();
    const written = writer.write(enc.encode('x'));
    expect((await reader.read()).value?.byteLength).toBe(1);
    await written;
    void writer.abort(new Error('origin cut')).catch(() => {});
    await expect(reader.read()).rejects.toThrow('origin cut');
    expect(log).toEqual(['a:chunk:1', 'a:end:1:true']);
  });

  it('ends the taps once as aborted when the client cancels, and cancels the source', async () => {
    const log: string[] = [];
    const { readable, writer } = source();
    const body = new TappedBody(readable, recorder('a', log));
    body.add(recorder('b', log));
    await body.stream.cancel('client gone');
    await body.stream.cancel('again').catch(() => {});
    expect(log).toEqual(['a:end:0:true', 'b:end:0:true']);
    await expect(writer.write(enc.encode('late'))).rejects.toBeDefined();
  });

  it('tells a tap added after the end how the body ended', async () => {
    const log: string[] = [];
    const { readable, writer } = source();
    const body = new TappedBody(readable);
    void writer.write(enc.encode('hello'));
    void writer.close();
    await new Response(body.stream).text();
    body.add(recorder('late', log));
    expect(log).toEqual(['late:end:5:false']);
  });
});
