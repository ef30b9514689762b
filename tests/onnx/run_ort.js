// Runs ONNX models in ONNX Runtime (the onnxruntime-node package) on inputs
// stored as .npy files, with graph optimization off and fully on (constant
// folding and fusions can hide, or introduce, what the other level shows),
// and writes each output as .npy:
//
//   node run_ort.js <node_modules dir> <a.onnx> <x.npy>... [<b.onnx> <y.npy>...]...
//     -> <x>.disabled.npy and <x>.all.npy beside each input
//
// Each .npy file is an input of the model named before it; the model's first
// input is fed and its first output written. When <x>.expected.npy exists
// (a reference output), the distance to it is printed. float32 and float64 arrays, C
// order, .npy versions 1-3. One process for many models: loading Node and
// ONNX Runtime is most of the time. Prints ONNX Runtime's version; exits 1
// with a message on any error (a model ONNX Runtime refuses, a bad file).
'use strict';

const fs = require('fs');
const path = require('path');

function fail(message) {
  process.stderr.write(`run_ort: ${message}\n`);
  process.exit(1);
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);  // "\x93NUMPY"
const DTYPES = {
  '<f4': {type: 'float32', array: Float32Array},
  '<f8': {type: 'float64', array: Float64Array},
};

function readNpy(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) fail(`${file} is not a .npy file`);
  const major = bytes[6];
  const lenBytes = major === 1 ? 2 : 4;
  if (major < 1 || major > 3) fail(`${file}: unsupported .npy version ${major}`);
  const headerLen = lenBytes === 2 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = 8 + lenBytes + headerLen;
  const header = bytes.subarray(8 + lenBytes, start).toString('latin1');
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const order = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !order || !shape) fail(`${file}: malformed .npy header ${header}`);
  const dtype = DTYPES[descr[1]];
  if (!dtype) fail(`${file}: dtype ${descr[1]} is not float32 or float64`);
  if (order[1] !== 'False') fail(`${file}: Fortran order is not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const size = count * dtype.array.BYTES_PER_ELEMENT;
  if (bytes.length - start !== size) fail(`${file}: ${bytes.length - start} data bytes, expected ${size}`);
  // A copy: the typed array needs its own, aligned buffer.
  const data = new dtype.array(count);
  Buffer.from(data.buffer).set(bytes.subarray(start));
  return {type: dtype.type, dims, data};
}

function writeNpy(file, tensor) {
  const descr = tensor.type === 'float32' ? '<f4' : tensor.type === 'float64' ? '<f8' : null;
  if (!descr) fail(`output of type ${tensor.type} is not float32 or float64`);
  const dims = tensor.dims.map(String).join(', ') + (tensor.dims.length === 1 ? ',' : '');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;  // data 64-byte aligned
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const prefix = Buffer.alloc(10);
  MAGIC.copy(prefix, 0);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const data = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]));
}

// When a reference output sits beside the input (<x>.expected.npy, e.g.
// xgrad's), prints how far ONNX Runtime's output is from it, and on how many
// rows of a [rows, classes] output both pick the same class.
function report(expectedFile, out, what) {
  if (!fs.existsSync(expectedFile)) return;
  const ref = readNpy(expectedFile);
  if (ref.dims.join() !== out.dims.join()) {
    fail(`${what}: output [${out.dims}] but ${expectedFile} is [${ref.dims}]`);
  }
  let maxDiff = 0;
  for (let i = 0; i < ref.data.length; ++i) maxDiff = Math.max(maxDiff, Math.abs(out.data[i] - ref.data[i]));
  let line = `${what}: output [${out.dims}], max |diff| from ${path.basename(expectedFile)} ${maxDiff.toExponential(2)}`;
  if (out.dims.length === 2) {
    const [rows, cols] = out.dims;
    let same = 0;
    for (let r = 0; r < rows; ++r) {
      let a = 0, b = 0;
      for (let c = 1; c < cols; ++c) {
        if (ref.data[r * cols + c] > ref.data[r * cols + a]) a = c;
        if (out.data[r * cols + c] > out.data[r * cols + b]) b = c;
      }
      same += a === b;
    }
    line += `, same argmax on ${same} of ${rows} rows`;
  }
  process.stdout.write(line + '\n');
}

async function runModel(ort, model, inputs) {
  for (const level of ['disabled', 'all']) {
    let session;
    try {
      // One thread: the machine is shared, and the results do not depend on it.
      session = await ort.InferenceSession.create(model, {
        graphOptimizationLevel: level,
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
      });
    } catch (e) {
      fail(`ONNX Runtime refuses ${model} (optimization ${level}): ${e.message}`);
    }
    for (const file of inputs) {
      const x = readNpy(file);
      let result;
      try {
        result = await session.run({[session.inputNames[0]]: new ort.Tensor(x.type, x.data, x.dims)});
      } catch (e) {
        fail(`running ${model} on ${file} (optimization ${level}): ${e.message}`);
      }
      const out = result[session.outputNames[0]];
      const base = file.replace(/\.npy$/, '');
      writeNpy(`${base}.${level}.npy`, out);
      report(`${base}.expected.npy`, out, `${path.basename(file)} (optimization ${level})`);
    }
    if (session.release) await session.release();
  }
}

async function main() {
  const [modules, ...files] = process.argv.slice(2);
  if (!modules || files.length < 2 || !files[0].endsWith('.onnx')) {
    fail('usage: node run_ort.js <node_modules dir> <a.onnx> <x.npy>... [<b.onnx> <y.npy>...]...');
  }
  let ort;
  try {
    ort = require(path.resolve(modules, 'onnxruntime-node'));
  } catch (e) {
    fail(`cannot load onnxruntime-node from ${modules}: ${e.message}`);
  }
  process.stdout.write(`onnxruntime-node ${ort.env.versions.node}\n`);
  const groups = [];
  for (const f of files) {
    if (f.endsWith('.onnx')) groups.push({model: f, inputs: []});
    else groups[groups.length - 1].inputs.push(f);
  }
  for (const g of groups) await runModel(ort, g.model, g.inputs);
}

main().catch((e) => fail(e.stack || String(e)));
