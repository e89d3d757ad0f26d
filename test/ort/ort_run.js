#!/usr/bin/env node
// ort_run.js - ONNX Runtime CPU (onnxruntime-node) as kiln's peer for test/models and test/bench.
//
//   ort_run.js MODEL.onnx INPUT_DIR OUTPUT_DIR   run once: INPUT_DIR/input_<i>.pb -> OUTPUT_DIR/output_<i>.pb
//   ort_run.js --bench N [--warmup W] MODEL.onnx INPUT_DIR
//                                                W untimed runs (default 2), then N timed runs;
//                                                prints {"latency_ms":[...],"p50":..} on stdout
//
// Input i feeds the model's i-th graph input (the .pb's name is not trusted: kiln-run and numpy
// writers differ); output i is the model's i-th output, written as a raw_data TensorProto named
// after it, as kiln-run --output-dir does. The TensorProto codec below reads dims, data_type,
// name and raw_data or the typed *_data fields (packed or not); it writes dims, data_type, name
// and raw_data only. Exit status 1 with a message on any error.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

// ONNX TensorProto.DataType -> [ort type name, TypedArray]
const DTYPES = {
  1: ['float32', Float32Array], 2: ['uint8', Uint8Array], 3: ['int8', Int8Array],
  4: ['uint16', Uint16Array], 5: ['int16', Int16Array], 6: ['int32', Int32Array],
  7: ['int64', BigInt64Array], 9: ['bool', Uint8Array], 11: ['float64', Float64Array],
  12: ['uint32', Uint32Array], 13: ['uint64', BigUint64Array],
};
const ONNX_TYPE = Object.fromEntries(Object.entries(DTYPES).map(([k, v]) => [v[0], +k]));

function die(msg) { process.stderr.write(`ort_run: ${msg}\n`); process.exit(1); }

// ---- protobuf wire format (only what TensorProto needs) ----
function readVarint(buf, pos) { // -> [BigInt value, next pos]
  let v = 0n, shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [BigInt.asIntN(64, v), pos];
    shift += 7n;
  }
}
function varint(v) { // BigInt or Number >= -2^63 -> bytes
  let u = BigInt.asUintN(64, BigInt(v));
  const out = [];
  do { let b = Number(u & 0x7fn); u >>= 7n; if (u) b |= 0x80; out.push(b); } while (u);
  return Buffer.from(out);
}

function decodeTensor(buf, file) {
  const t = { dims: [], dataType: 0, name: '', raw: null, typed: [] };
  let pos = 0;
  while (pos < buf.length) {
    let key; [key, pos] = readVarint(buf, pos);
    const field = Number(key >> 3n), wire = Number(key & 7n);
    if (wire === 0) {
      let v; [v, pos] = readVarint(buf, pos);
      if (field === 1) t.dims.push(Number(v));
      else if (field === 2) t.dataType = Number(v);
      else if ([5, 7, 11].includes(field)) t.typed.push(v);
    } else if (wire === 2) {
      let len; [len, pos] = readVarint(buf, pos);
      const body = buf.subarray(pos, pos + Number(len));
      pos += Number(len);
      if (body.length !== Number(len)) throw new Error(`${file}: truncated field ${field}`);
      if (field === 9) t.raw = body;
      else if (field === 8) t.name = body.toString('utf8');
      else if (field === 4) for (let i = 0; i + 4 <= body.length; i += 4) t.typed.push(body.readFloatLE(i));
      else if (field === 10) for (let i = 0; i + 8 <= body.length; i += 8) t.typed.push(body.readDoubleLE(i));
      else if ([1, 5, 7, 11].includes(field)) { // packed varints
        for (let p = 0; p < body.length;) { let v; [v, p] = readVarint(body, p); (field === 1 ? t.dims : t.typed).push(field === 1 ? Number(v) : v); }
      }
    } else if (wire === 5) { if (field === 4) t.typed.push(buf.readFloatLE(pos)); pos += 4; }
    else if (wire === 1) { if (field === 10) t.typed.push(buf.readDoubleLE(pos)); pos += 8; }
    else throw new Error(`${file}: unsupported wire type ${wire}`);
  }
  const dt = DTYPES[t.dataType];
  if (!dt) throw new Error(`${file}: unsupported data_type ${t.dataType}`);
  const [type, Arr] = dt;
  const n = t.dims.reduce((a, b) => a * b, 1);
  let data;
  if (t.raw) {
    if (t.raw.length !== n * Arr.BYTES_PER_ELEMENT)
      throw new Error(`${file}: raw_data has ${t.raw.length} bytes, dims [${t.dims}] need ${n * Arr.BYTES_PER_ELEMENT}`);
    data = new Arr(n);
    new Uint8Array(data.buffer).set(t.raw);
  } else {
    if (t.typed.length !== n) throw new Error(`${file}: ${t.typed.length} values, dims [${t.dims}] need ${n}`);
    data = Arr.from(t.typed, (v) => (Arr === BigInt64Array || Arr === BigUint64Array ? BigInt(v) : Number(v)));
  }
  return new ort.Tensor(type, data, t.dims);
}

function encodeTensor(tensor, name) {
  const parts = [];
  for (const d of tensor.dims) parts.push(Buffer.from([0x08]), varint(d));
  const dt = ONNX_TYPE[tensor.type];
  if (!dt) throw new Error(`output '${name}': unsupported type ${tensor.type}`);
  parts.push(Buffer.from([0x10]), varint(dt));
  const nm = Buffer.from(name, 'utf8');
  parts.push(Buffer.from([0x42]), varint(nm.length), nm);
  const d = tensor.data;
  const raw = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  parts.push(Buffer.from([0x4a]), varint(raw.length), raw);
  return Buffer.concat(parts);
}

function readInputs(session, dir) {
  const feeds = {};
  session.inputNames.forEach((name, i) => {
    const file = path.join(dir, `input_${i}.pb`);
    if (!fs.existsSync(file)) die(`${file}: missing (model input ${i} '${name}')`);
    feeds[name] = decodeTensor(fs.readFileSync(file), file);
  });
  return feeds;
}

async function main(argv) {
  let bench = 0, warmup = 2;
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--bench' || argv[i] === '--warmup') {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < (argv[i - 1] === '--bench' ? 1 : 0)) die(`${argv[i - 1]}: expected a count, got '${argv[i]}'`);
      if (argv[i - 1] === '--bench') bench = v; else warmup = v;
    } else pos.push(argv[i]);
  }
  if (pos.length !== (bench ? 2 : 3))
    die('usage: ort_run.js MODEL.onnx INPUT_DIR OUTPUT_DIR | ort_run.js --bench N [--warmup W] MODEL.onnx INPUT_DIR');
  const [model, inDir, outDir] = pos;
  // Default session options: all graph optimizations, one intra-op thread per core.
  const session = await ort.InferenceSession.create(model);
  const feeds = readInputs(session, inDir);
  if (bench) {
    for (let i = 0; i < warmup; i++) await session.run(feeds);
    const lat = [];
    for (let i = 0; i < bench; i++) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const s = [...lat].sort((a, b) => a - b);
    const p50 = s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    process.stdout.write(JSON.stringify({ model, runtime: `onnxruntime-node ${ort.env.versions.node}`,
      iterations: bench, latency_ms: lat.map((v) => +v.toFixed(4)), p50: +p50.toFixed(4) }) + '\n');
    return;
  }
  const results = await session.run(feeds);
  fs.mkdirSync(outDir, { recursive: true });
  session.outputNames.forEach((name, i) =>
    fs.writeFileSync(path.join(outDir, `output_${i}.pb`), encodeTensor(results[name], name)));
}

main(process.argv.slice(2)).catch((e) => die(e && e.message ? e.message : String(e)));
