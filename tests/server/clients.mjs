// tests/server/clients.mjs — `hearth serve` driven by the real client libraries from npm:
// ollama (ollama-js), openai (openai-node) and @langchain/ollama. Run by
// tests/cli/server-clients.sh, which installs them and starts the server:
//   NODE_PATH=.../node_modules node clients.mjs URL
// The fixture model has random weights, so the checks are about shapes, protocol and
// constraints (JSON schema output must parse and validate), never about what the text says.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.CLIENTS_NODE_MODULES, 'x.js'));
const { Ollama } = require('ollama');
const OpenAI = require('openai');
const { ChatOllama, OllamaEmbeddings } = require('@langchain/ollama');
const { tool } = require('@langchain/core/tools');
const { z } = require('zod');

const url = process.argv[2];
const ollama = new Ollama({ host: url });
const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
let passed = 0;
const failures = [];

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}
async function test(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}
async function rejects(promise, what) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error(`expected an error: ${what}`);
}

// A small JSON-Schema validator for the schema used below (types, required, enum, bounds).
function validate(schema, v, at = '$') {
  const t = schema.type;
  if (t === 'object') {
    check(v && typeof v === 'object' && !Array.isArray(v), `${at} is an object`);
    for (const k of schema.required || []) check(k in v, `${at}.${k} present`);
    for (const [k, s] of Object.entries(schema.properties || {})) if (k in v) validate(s, v[k], `${at}.${k}`);
    if (schema.additionalProperties === false)
      for (const k of Object.keys(v)) check(k in schema.properties, `${at}.${k} allowed`);
  } else if (t === 'array') {
    check(Array.isArray(v), `${at} is an array`);
    if (schema.maxItems !== undefined) check(v.length <= schema.maxItems, `${at} maxItems`);
    v.forEach((x, i) => validate(schema.items, x, `${at}[${i}]`));
  } else if (t === 'string') {
    check(typeof v === 'string', `${at} is a string`);
    if (schema.enum) check(schema.enum.includes(v), `${at} in enum`);
    if (schema.maxLength !== undefined) check(v.length <= schema.maxLength, `${at} maxLength`);
  } else if (t === 'integer') {
    check(Number.isInteger(v), `${at} is an integer`);
    if (schema.minimum !== undefined) check(v >= schema.minimum, `${at} minimum`);
    if (schema.maximum !== undefined) check(v <= schema.maximum, `${at} maximum`);
  } else if (t === 'boolean') {
    check(typeof v === 'boolean', `${at} is a boolean`);
  }
}
const schema = {
  type: 'object',
  properties: {
    city: { type: 'string', maxLength: 12 },
    population: { type: 'integer' }, // minimum/maximum are not enforced by hearth's grammar yet
    capital: { type: 'boolean' },
    kind: { type: 'string', enum: ['town', 'city'] },
  },
  required: ['city', 'population', 'capital', 'kind'],
  additionalProperties: false,
};
const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const user = (content) => [{ role: 'user', content }];
const opts = { num_predict: 6, seed: 7 };

// ---------------------------------------------------------------- ollama
await test('ollama: chat', async () => {
  const r = await ollama.chat({ model: 'qwen', messages: user('Hello!'), options: opts });
  check(r.message.role === 'assistant' && typeof r.message.content === 'string', 'assistant message');
  check(r.done === true && ['stop', 'length'].includes(r.done_reason), 'done, done_reason');
  check(r.eval_count >= 1 && r.eval_count <= 6, `eval_count ${r.eval_count} within num_predict`);
  check(r.prompt_eval_count > 5 && r.total_duration > 0 && r.model === 'qwen', 'stats');
});
await test('ollama: chat streaming', async () => {
  const parts = [];
  for await (const p of await ollama.chat({ model: 'qwen', messages: user('Hi'), stream: true, options: opts })) parts.push(p);
  const last = parts.at(-1);
  check(parts.length >= 2 && last.done === true && parts.slice(0, -1).every((p) => p.done === false), 'chunks then done');
  check(parts.slice(0, -1).every((p) => p.message.role === 'assistant' && typeof p.message.content === 'string'), 'chunk shape');
  check(last.eval_count === parts.length - 1 || last.done_reason === 'stop', 'one chunk per token');
});
await test('ollama: same seed, same text', async () => {
  const a = await ollama.generate({ model: 'qwen', prompt: 'Count', options: { ...opts, temperature: 0.8 } });
  const b = await ollama.generate({ model: 'qwen', prompt: 'Count', options: { ...opts, temperature: 0.8 } });
  check(a.response === b.response && a.response.length > 0, `"${a.response}" vs "${b.response}"`);
});
await test('ollama: generate streaming + raw', async () => {
  let text = '', n = 0, done;
  for await (const p of await ollama.generate({ model: 'qwen', prompt: 'The sky', raw: true, stream: true, options: opts })) {
    if (p.done) done = p; else { text += p.response; n++; }
  }
  check(done && done.done_reason && n >= 1 && text.length > 0, 'streamed text');
  check(done.prompt_eval_count <= 3, `raw prompt is not templated (${done.prompt_eval_count} tokens)`);
});
await test('ollama: stored SYSTEM applies when the request has none', async () => {
  const plain = await ollama.chat({ model: 'qwen', messages: user('Hi'), options: opts });
  const sys = await ollama.chat({ model: 'qwen-sys', messages: user('Hi'), options: opts });
  const own = await ollama.chat({ model: 'qwen-sys', messages: [{ role: 'system', content: 'Be brief.' }, ...user('Hi')], options: opts });
  const ownPlain = await ollama.chat({ model: 'qwen', messages: [{ role: 'system', content: 'Be brief.' }, ...user('Hi')], options: opts });
  check(sys.prompt_eval_count > plain.prompt_eval_count + 5, `system layer adds tokens (${plain.prompt_eval_count} -> ${sys.prompt_eval_count})`);
  check(own.prompt_eval_count === ownPlain.prompt_eval_count, 'a request system message replaces the stored one');
  const gen = await ollama.generate({ model: 'qwen-sys', prompt: 'Hi', options: opts });
  const genPlain = await ollama.generate({ model: 'qwen', prompt: 'Hi', options: opts });
  check(gen.prompt_eval_count > genPlain.prompt_eval_count + 5, 'stored SYSTEM in /api/generate');
  const p = await ollama.generate({ model: 'qwen-sys', prompt: 'Hi' }); // PARAMETER num_predict 8
  check(p.eval_count <= 8, `stored PARAMETER num_predict (${p.eval_count})`);
});
await test('ollama: tools', async () => {
  const r = await ollama.chat({ model: 'qwen', messages: user('Weather in Paris?'), tools: [weatherTool], options: opts });
  check(r.message.role === 'assistant' && typeof r.message.content === 'string' && r.done, 'reply with tools offered');
  for (const c of r.message.tool_calls || []) check(typeof c.function.name === 'string' && typeof c.function.arguments === 'object', 'tool call shape');
  const parts = [];
  for await (const p of await ollama.chat({ model: 'qwen', messages: user('Weather?'), tools: [weatherTool], stream: true, options: opts })) parts.push(p);
  check(parts.at(-1).done, 'streamed reply with tools');
  // a conversation that already holds a tool call and its result renders and continues
  const history = [...user('Weather in Paris?'),
    { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
    { role: 'tool', content: '{"temp": 21}', tool_name: 'get_weather' }];
  const r2 = await ollama.chat({ model: 'qwen', messages: history, tools: [weatherTool], options: opts });
  check(r2.done && r2.prompt_eval_count > r.prompt_eval_count, 'tool result turn');
});
await test('ollama: structured output (format = JSON schema)', async () => {
  for (const seed of [1, 2, 3]) {
    const r = await ollama.chat({ model: 'qwen', messages: user('A city as JSON'), format: schema, options: { num_predict: 120, seed, temperature: 1 } });
    validate(schema, JSON.parse(r.message.content));
  }
  const g = await ollama.generate({ model: 'qwen', prompt: 'JSON please', format: 'json', options: { num_predict: 60, seed: 5 } });
  JSON.parse(g.response);
});
await test('ollama: think', async () => {
  const r = await ollama.chat({ model: 'qwen', messages: user('Hi'), think: false, options: opts });
  const t = await ollama.chat({ model: 'qwen', messages: user('Hi'), think: true, options: opts });
  check(r.prompt_eval_count > t.prompt_eval_count, 'think:false adds the empty think block (Qwen3 template)');
  check(typeof t.message.content === 'string', 'think reply');
});
await test('ollama: embed and embeddings', async () => {
  const r = await ollama.embed({ model: 'bert', input: ['first text', 'second text'] });
  check(r.embeddings.length === 2 && r.embeddings[0].length === 64, 'two 64-dim vectors');
  const norm = Math.hypot(...r.embeddings[0]);
  check(Math.abs(norm - 1) < 1e-3, `normalized (${norm})`);
  check(r.embeddings[0].some((x, i) => x !== r.embeddings[1][i]), 'different texts differ');
  const one = await ollama.embed({ model: 'bert', input: 'first text' });
  check(one.embeddings[0].every((x, i) => Math.abs(x - r.embeddings[0][i]) < 1e-5), 'batch = single');
  const legacy = await ollama.embeddings({ model: 'bert', prompt: 'first text' });
  check(legacy.embedding.length === 64, 'legacy /api/embeddings');
  const e = await rejects(ollama.embed({ model: 'qwen', input: 'x' }), 'embed with a generation model');
  check(e.status_code === 400, `status ${e.status_code}`);
});
await test('ollama: list, show, ps, copy, delete, version', async () => {
  const l = await ollama.list();
  const names = l.models.map((m) => m.name);
  check(['bert:latest', 'qwen:latest', 'qwen-sys:latest'].every((n) => names.includes(n)), `list: ${names}`);
  const q = l.models.find((m) => m.name === 'qwen:latest');
  check(q.size > 1e6 && q.digest.length === 64 && q.details.family === 'qwen3' && q.details.format === 'gguf', 'list entry');
  const s = await ollama.show({ model: 'qwen-sys' });
  check(s.template.includes('<|im_start|>') && s.system.includes('pirate') && s.model_info['general.architecture'] === 'qwen3', 'show');
  check(s.capabilities.includes('completion') && s.capabilities.includes('tools') && /num_predict\s+8/.test(s.parameters), 'show caps/params');
  const p = await ollama.ps();
  check(p.models.some((m) => m.name === 'qwen:latest' && m.size > 0 && m.expires_at), `ps: ${JSON.stringify(p.models)}`);
  await ollama.copy({ source: 'qwen', destination: 'qwen-copy:v2' });
  check((await ollama.list()).models.some((m) => m.name === 'qwen-copy:v2'), 'copy listed');
  await ollama.delete({ model: 'qwen-copy:v2' });
  check(!(await ollama.list()).models.some((m) => m.name === 'qwen-copy:v2'), 'delete');
  check(typeof (await ollama.version()).version === 'string', 'version');
});
await test('ollama: keep_alive 0 unloads', async () => {
  await ollama.generate({ model: 'qwen', prompt: '', keep_alive: 0 });
  let gone = false;
  for (let i = 0; i < 30 && !gone; i++) {
    gone = !(await ollama.ps()).models.some((m) => m.name === 'qwen:latest');
    if (!gone) await new Promise((r) => setTimeout(r, 200));
  }
  check(gone, 'qwen unloaded');
  const r = await ollama.generate({ model: 'qwen', prompt: '', keep_alive: '5m' });
  check(r.done && r.done_reason === 'load', 'empty prompt loads');
  check((await ollama.ps()).models.some((m) => m.name === 'qwen:latest'), 'loaded again');
});
await test('ollama: pull (loopback registry)', async () => {
  if (!process.env.HEARTH_REGISTRY) throw new Error('HEARTH_REGISTRY not set');
  const statuses = [];
  for await (const p of await ollama.pull({ model: 'pulled:v1', stream: true })) statuses.push(p.status);
  check(statuses[0] === 'pulling manifest' && statuses.at(-1) === 'success', `pull statuses ${statuses}`);
  const r = await ollama.pull({ model: 'pulled:v1' });
  check(r.status === 'success', 'non-streaming pull');
  check((await ollama.list()).models.some((m) => m.name === 'pulled:v1'), 'pulled model listed');
  const e = await rejects(ollama.pull({ model: 'nothere' }), 'pull of an unknown model');
  check(/not found/.test(e.message), e.message);
});
await test('ollama: errors', async () => {
  let e = await rejects(ollama.chat({ model: 'missing', messages: user('x') }), 'unknown model');
  check(e.name === 'ResponseError' && e.status_code === 404 && /not found/.test(e.error), `${e.status_code} ${e.error}`);
  e = await rejects(ollama.chat({ model: '../../etc/passwd', messages: user('x') }), 'path traversal');
  check(e.status_code === 400, `traversal ${e.status_code}`);
  e = await rejects(ollama.chat({ model: 'qwen', messages: user('x'), options: { temperature: 'hot' } }), 'bad option type');
  check(e.status_code === 400 && /temperature/.test(e.error), e.error);
  e = await rejects(ollama.show({ model: 'missing' }), 'show unknown');
  check(e.status_code === 404, `show ${e.status_code}`);
  e = await rejects(ollama.delete({ model: 'missing' }), 'delete unknown');
  check(e.status_code === 404, `delete ${e.status_code}`);
  e = await rejects((async () => { for await (const _ of await ollama.chat({ model: 'missing', messages: user('x'), stream: true })); })(), 'stream unknown');
  check(e.status_code === 404, `stream ${e.status_code}`);
});

// ---------------------------------------------------------------- openai
await test('openai: chat completion, n=2, logprobs', async () => {
  const r = await openai.chat.completions.create({ model: 'qwen', messages: user('Hello'), max_tokens: 5, n: 2, logprobs: true, top_logprobs: 3, seed: 11 });
  check(r.object === 'chat.completion' && r.id.startsWith('chatcmpl-') && r.choices.length === 2, 'shape');
  for (const c of r.choices) {
    check(c.message.role === 'assistant' && typeof c.message.content === 'string', 'message');
    check(['stop', 'length'].includes(c.finish_reason), 'finish_reason');
    const lp = c.logprobs.content;
    check(lp.length >= 1 && lp.every((t) => t.logprob <= 0 && t.top_logprobs.length === 3 && Array.isArray(t.bytes)), 'logprobs');
    check(lp.every((t) => t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob), 'top_logprobs sorted');
  }
  check(r.usage.completion_tokens >= 2 && r.usage.total_tokens === r.usage.prompt_tokens + r.usage.completion_tokens, 'usage');
});
await test('openai: streaming (SSE) with usage', async () => {
  const s = await openai.chat.completions.create({ model: 'qwen', messages: user('Hi'), max_tokens: 6, stream: true, stream_options: { include_usage: true } });
  let text = '', finish = null, usage = null, chunks = 0;
  for await (const c of s) {
    chunks++;
    check(c.object === 'chat.completion.chunk', 'chunk object');
    if (c.usage) usage = c.usage;
    for (const ch of c.choices) { text += ch.delta.content || ''; finish = ch.finish_reason || finish; }
  }
  check(chunks >= 3 && text.length > 0 && finish && usage && usage.completion_tokens >= 1, `stream: ${chunks} chunks, ${finish}`);
  // the SDK's stream helper accumulates the same deltas into a final message
  const runner = openai.chat.completions.stream({ model: 'qwen', messages: user('Hi'), max_tokens: 4 });
  const final = await runner.finalChatCompletion();
  check(typeof final.choices[0].message.content === 'string', 'stream helper');
});
await test('openai: tools', async () => {
  const r = await openai.chat.completions.create({ model: 'qwen', messages: user('Weather in Paris?'), tools: [weatherTool], max_tokens: 6 });
  const c = r.choices[0];
  check(['stop', 'length', 'tool_calls'].includes(c.finish_reason) && c.message.role === 'assistant', 'reply with tools');
  for (const t of c.message.tool_calls || []) check(t.type === 'function' && typeof t.function.arguments === 'string', 'call shape');
  const history = [...user('Weather in Paris?'),
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '{"temp": 21}' }];
  const r2 = await openai.chat.completions.create({ model: 'qwen', messages: history, tools: [weatherTool], max_tokens: 4 });
  check(r2.usage.prompt_tokens > r.usage.prompt_tokens, 'tool result turn');
  const s = openai.chat.completions.stream({ model: 'qwen', messages: user('Weather?'), tools: [weatherTool], max_tokens: 4 });
  check((await s.finalChatCompletion()).choices.length === 1, 'streamed tools');
});
await test('openai: structured output (response_format json_schema)', async () => {
  for (const seed of [4, 5]) {
    const r = await openai.chat.completions.create({
      model: 'qwen', messages: user('A city'), max_tokens: 120, seed, temperature: 1,
      response_format: { type: 'json_schema', json_schema: { name: 'city', schema, strict: true } },
    });
    validate(schema, JSON.parse(r.choices[0].message.content));
  }
  const j = await openai.chat.completions.create({ model: 'qwen', messages: user('JSON'), max_tokens: 60, response_format: { type: 'json_object' } });
  JSON.parse(j.choices[0].message.content);
});
await test('openai: completions, developer role, content parts', async () => {
  const r = await openai.completions.create({ model: 'qwen', prompt: 'Once upon', max_tokens: 4, logprobs: 2 });
  check(r.object === 'text_completion' && typeof r.choices[0].text === 'string', 'completion');
  const c = await openai.chat.completions.create({ model: 'qwen', max_tokens: 3,
    messages: [{ role: 'developer', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'Hi ' }, { type: 'text', text: 'there' }] }] });
  check(typeof c.choices[0].message.content === 'string', 'parts');
});
await test('openai: embeddings (base64 default and float)', async () => {
  const r = await openai.embeddings.create({ model: 'bert', input: ['first text', 'second text'] });
  check(r.data.length === 2 && r.data[0].embedding.length === 64 && r.usage.prompt_tokens > 0, 'base64 decoded by the SDK');
  const f = await openai.embeddings.create({ model: 'bert', input: 'first text', encoding_format: 'float' });
  check(f.data[0].embedding.every((x, i) => Math.abs(x - r.data[0].embedding[i]) < 1e-6), 'float = base64');
  const o = await ollama.embed({ model: 'bert', input: 'first text' });
  check(o.embeddings[0].every((x, i) => Math.abs(x - f.data[0].embedding[i]) < 1e-5), 'same as /api/embed');
});
await test('openai: models', async () => {
  const ids = [];
  for await (const m of openai.models.list()) ids.push(m.id);
  check(ids.includes('qwen:latest') && ids.includes('bert:latest'), `models ${ids}`);
  check((await openai.models.retrieve('qwen')).id === 'qwen:latest', 'retrieve');
});
await test('openai: errors', async () => {
  let e = await rejects(openai.chat.completions.create({ model: 'missing', messages: user('x') }), 'unknown model');
  check(e instanceof OpenAI.NotFoundError && e.status === 404 && /not found/.test(e.message), `${e.constructor.name} ${e.message}`);
  e = await rejects(openai.chat.completions.create({ model: 'qwen', messages: user('x'), n: 99 }), 'n too big');
  check(e instanceof OpenAI.BadRequestError && e.error.type === 'invalid_request_error', e.message);
  e = await rejects(openai.chat.completions.create({ model: 'qwen', messages: 'not a list' }), 'bad messages');
  check(e.status === 400, e.message);
  e = await rejects(openai.embeddings.create({ model: 'qwen', input: 'x' }), 'embeddings on a generation model');
  check(e.status === 400, e.message);
  e = await rejects(openai.models.retrieve('missing'), 'retrieve unknown');
  check(e.status === 404, e.message);
});

// ---------------------------------------------------------------- langchain
const lc = (extra = {}) => new ChatOllama({ model: 'qwen', baseUrl: url, numPredict: 6, seed: 3, ...extra });
await test('langchain: invoke and stream', async () => {
  const m = await lc().invoke('Hello');
  check(typeof m.content === 'string' && m.response_metadata.done === true, 'AIMessage');
  check(m.usage_metadata && m.usage_metadata.output_tokens >= 1, 'usage_metadata');
  let text = '', n = 0;
  for await (const c of await lc().stream('Hello')) { text += c.content; n++; }
  check(n >= 2 && text.length > 0, `stream: ${n} chunks`);
});
await test('langchain: bindTools', async () => {
  const weather = tool(async ({ city }) => `sunny in ${city}`, {
    name: 'get_weather', description: 'Current weather of a city', schema: z.object({ city: z.string() }),
  });
  const m = await lc().bindTools([weather]).invoke('Weather in Paris?');
  check(Array.isArray(m.tool_calls) && typeof m.content === 'string', 'AIMessage with tool_calls array');
  for (const c of m.tool_calls) check(typeof c.name === 'string' && typeof c.args === 'object', 'tool call shape');
});
await test('langchain: withStructuredOutput (zod -> JSON schema format)', async () => {
  const City = z.object({ city: z.string().max(12), population: z.number().int(), capital: z.boolean() });
  for (const seed of [8, 9]) {
    const out = await lc({ numPredict: 120, seed, temperature: 1 }).withStructuredOutput(City).invoke('A city');
    City.parse(out);
  }
});
await test('langchain: OllamaEmbeddings', async () => {
  const e = new OllamaEmbeddings({ model: 'bert', baseUrl: url });
  const q = await e.embedQuery('first text');
  const d = await e.embedDocuments(['first text', 'second text']);
  check(q.length === 64 && d.length === 2 && d[0].every((x, i) => Math.abs(x - q[i]) < 1e-5), 'embeddings');
});
await test('langchain: errors', async () => {
  const e = await rejects(new ChatOllama({ model: 'missing', baseUrl: url }).invoke('x'), 'unknown model');
  check(/not found/.test(e.message), e.message);
});

console.log(`${passed} passed, ${failures.length} failed${failures.length ? ': ' + failures.join(', ') : ''}`);
process.exit(failures.length ? 1 : 0);
