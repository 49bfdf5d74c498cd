// `ntk-select bench --what tokenizer`: our Tokenizer::encode and Hugging
// Face's Rust tokenizers on the same documents in one run. HF runs in node
// (bench/hf_tokenizer_bench.js, npm package `tokenizers`) on one rayon thread;
// both sides time encoding only (no file loading), take the fastest of `reps`
// passes and count tokens, and the totals must agree.

#include <sys/wait.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>

#include "ntks/bench/bench.h"
#include "ntks/tokenizer/tokenizer.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::bench {
namespace {

// splitmix64: the same text on every machine and compiler.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  bool chance(int percent) { return below(100) < static_cast<size_t>(percent); }
  template <size_t N>
  const char* pick(const char* const (&list)[N]) {
    return list[below(N)];
  }
};

const char* const kEnglish[] = {
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "with", "as", "was", "on", "be", "by", "this",
    "are", "from", "at", "or", "an", "which", "have", "not", "but", "they", "his", "her", "we", "you", "their",
    "data", "model", "training", "selection", "gradient", "kernel", "neural", "tangent", "example", "sample",
    "between", "however", "because", "without", "information", "language", "system", "function", "result",
    "value", "number", "people", "government", "development", "international", "approximately",
    "understanding", "responsibility", "characteristics", "don't", "it's", "we're", "they've", "I'll", "she'd",
    "isn't", "can't", "WON'T", "world", "river", "mountain", "history", "century", "quickly", "beautiful",
    "Paris", "London", "Tokyo", "McDonald", "iPhone", "JavaScript", "COVID-19", "e-mail", "well-known",
    "state-of-the-art", "self", "fine-tuning", "dataset", "tokenizer", "throughput", "benchmark"};
const char* const kCode[] = {"int", "return", "for", "while", "if", "else", "const", "auto", "std::vector",
                             "size_t", "def", "self", "import", "numpy", "np", "torch", "None", "True",
                             "nullptr", "static_cast<int64_t>", "i", "j", "count", "buffer", "num_tokens",
                             "maxValue", "getItem", "__init__", "0x1F", "1e-5", "3.14", "42", "\"hello\"",
                             "'%s'", "x[i]", "a->b", "std::move(v)", "{}", "[]", "()"};
const char* const kOps[] = {" = ", " == ", " != ", " += ", " + ", " - ", " * ", " / ", " && ", " || ", ", ",
                            "; ", ".", "::", " -> ", " <= ", " >= ", " % ", " << ", " >> "};
const char* const kChinese[] = {"我们", "数据", "模型", "训练", "选择", "的", "是", "在", "和", "了", "中国",
                                "北京", "语言", "计算机", "人工智能", "研究", "方法", "结果", "问题", "时间",
                                "发展", "学习", "网络", "系统", "可以", "没有", "因为", "所以", "一个", "这个"};
const char* const kJapanese[] = {"これは", "テスト", "です", "日本語", "の", "文章", "を", "書き", "ました",
                                 "コンピュータ", "東京", "ラーメン", "ありがとう", "ございます", "が", "は",
                                 "カタカナ", "ひらがな", "漢字", "データ"};
const char* const kCyrillic[] = {"Привет", "мир", "это", "тест", "данные", "модель", "обучение", "и", "в",
                                 "не", "что", "на", "с", "Москва", "язык", "программа", "Україна", "ї", "щастя"};
const char* const kArabic[] = {"مرحبا", "بالعالم", "هذا", "اختبار", "البيانات", "النموذج", "في", "من", "على",
                               "اللغة", "العربية"};
const char* const kAccented[] = {"café", "naïve", "résumé", "Ångström", "Straße", "Müller", "façade",
                                 "señor", "Tiếng", "Việt", "coöperate", "e\xCC\x81t\xC3\xA9",  // e + U+0301
                                 "A\xCC\x8Angstro\xCC\x88m", "ﬁnance", "Ωmega", "ελληνικά", "αβγ"};
const char* const kEmoji[] = {"😀", "🎉", "👍", "👍🏽", "❤️", "🔥", "🚀", "👨‍👩‍👧", "🇫🇷", "✅", "🤖", "🙏",
                              "™", "©", "→", "…", "—", "“quoted”", "«guillemets»", "½", "°C", "€10"};
const char* const kEnds[] = {".", ".", ".", "!", "?", ";", ":", "..."};
const char* const kSpaces[] = {"  ", "   ", "\t", "\t\t", " \t ", "\n", "\n\n", "\n\n\n", "\r\n", "    \n",
                               "          "};

void number(Rng& r, std::string& out) {
  switch (r.below(8)) {
    case 0: out += std::to_string(r.below(10000)); break;
    case 1: out += std::to_string(1990 + r.below(40)) + "-" + std::to_string(1 + r.below(12)) + "-" +
                   std::to_string(10 + r.below(18)); break;
    case 2: out += std::to_string(r.below(1000)) + "." + std::to_string(r.below(100000)); break;
    case 3: out += std::to_string(1 + r.below(999)) + "," + std::to_string(100 + r.below(900)) + "," +
                   std::to_string(100 + r.below(900)); break;
    case 4: out += std::to_string(r.below(100)) + "%"; break;
    case 5: out += "$" + std::to_string(r.below(5000)) + ".99"; break;
    case 6: out += std::to_string(r.next() % 100000000000ull); break;
    default: out += "v" + std::to_string(r.below(5)) + "." + std::to_string(r.below(20)) + "." +
                    std::to_string(r.below(10)); break;
  }
}

void prose(Rng& r, std::string& out, size_t target) {
  while (out.size() < target) {
    const size_t words = 4 + r.below(18);
    for (size_t w = 0; w < words; ++w) {
      if (w > 0) out += r.chance(3) ? ", " : " ";
      if (r.chance(6)) {
        number(r, out);
        continue;
      }
      std::string word = r.pick(kEnglish);
      if (w == 0 && word[0] >= 'a' && word[0] <= 'z') word[0] = static_cast<char>(word[0] - 'a' + 'A');
      if (r.chance(2)) word = "(" + word + ")";
      if (r.chance(2)) word = "\"" + word + "\"";
      out += word;
    }
    out += r.pick(kEnds);
    if (r.chance(2)) out += r.pick(kEmoji);
    out += r.chance(15) ? (r.chance(50) ? "\n" : "\n\n") : " ";
  }
}

void code(Rng& r, std::string& out, size_t target) {
  int indent = 0;
  while (out.size() < target) {
    out.append(static_cast<size_t>(indent) * 4, ' ');
    if (r.chance(10)) {
      out += r.chance(50) ? "// " : "# ";
      for (size_t w = 0; w < 3 + r.below(8); ++w) out += std::string(r.pick(kEnglish)) + " ";
    } else {
      for (size_t t = 0; t < 2 + r.below(6); ++t) {
        out += r.pick(kCode);
        out += r.pick(kOps);
      }
      out += r.pick(kCode);
      if (r.chance(25) && indent < 4) {
        out += " {";
        ++indent;
      } else if (r.chance(25) && indent > 0) {
        out += ";\n";
        --indent;
        out.append(static_cast<size_t>(indent) * 4, ' ');
        out += "}";
      } else {
        out += ";";
      }
    }
    out += r.chance(5) ? "   \n" : r.chance(10) ? "\n\n" : "\n";
    if (r.chance(3)) out += "\t\t" + std::string(r.pick(kCode)) + "\n";
  }
}

void multilingual(Rng& r, std::string& out, size_t target) {
  while (out.size() < target) {
    switch (r.below(7)) {
      case 0:  // Chinese runs without spaces: long pre-tokens
        for (size_t i = 0; i < 5 + r.below(30); ++i) out += r.pick(kChinese);
        out += r.chance(50) ? "，" : "。";
        break;
      case 1:
        for (size_t i = 0; i < 4 + r.below(15); ++i) out += r.pick(kJapanese);
        out += "。";
        break;
      case 2:  // Hangul syllables, spaced words
        for (size_t w = 0; w < 3 + r.below(8); ++w) {
          for (size_t i = 0; i < 1 + r.below(4); ++i) {
            const uint32_t cp = 0xAC00 + static_cast<uint32_t>(r.below(0xD7A3 - 0xAC00 + 1));
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          }
          out += " ";
        }
        break;
      case 3:
        for (size_t w = 0; w < 4 + r.below(10); ++w) out += std::string(r.pick(kCyrillic)) + " ";
        break;
      case 4:
        for (size_t w = 0; w < 3 + r.below(8); ++w) out += std::string(r.pick(kArabic)) + " ";
        break;
      case 5:
        for (size_t w = 0; w < 3 + r.below(8); ++w) out += std::string(r.pick(kAccented)) + " ";
        break;
      default:
        for (size_t w = 0; w < 2 + r.below(6); ++w) out += r.pick(kEmoji);
        break;
    }
    out += r.chance(30) ? r.pick(kSpaces) : " ";
  }
}

// Documents: "text" of each line of a .jsonl file, else each non-empty line
// (bench/hf_tokenizer_bench.js reads them by the same rule).
std::vector<std::string> read_documents(const std::string& path) {
  const std::string all = read_file(path);
  const bool jsonl = path.size() >= 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
  std::vector<std::string> docs;
  size_t line_no = 0;
  for (size_t pos = 0; pos < all.size();) {
    size_t end = all.find('\n', pos);
    if (end == std::string::npos) end = all.size();
    const std::string_view line(all.data() + pos, end - pos);
    ++line_no;
    pos = end + 1;
    if (line.empty()) continue;
    if (!jsonl) {
      docs.emplace_back(line);
      continue;
    }
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("{}:{}: not valid JSON ({})", path, line_no, e.what()));
    }
    if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
      throw InputError(fmt::format("{}:{}: expected an object with a string \"text\"", path, line_no));
    docs.push_back(j["text"].get<std::string>());
  }
  if (docs.empty()) throw InputError(fmt::format("{}: no documents (empty file?)", path));
  return docs;
}

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Pass {
  double seconds = 0, cpu_seconds = 0;
  uint64_t tokens = 0;
};

// One pass over all documents on `threads` threads that take documents from a
// shared counter. CPU time is summed over the threads: on a machine that other
// work shares, it shows whether threads slow each other down when wall time
// cannot. A document that does not encode (invalid UTF-8) is an InputError
// naming it, `source` and its index from 1.
Pass encode_pass(const tokenizer::Tokenizer& tok, const std::vector<std::string>& docs, int threads,
                 bool add_special, const std::string& source) {
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> total{0};
  std::vector<double> cpu(static_cast<size_t>(threads), 0.0);
  std::mutex error_mutex;
  std::string error;
  std::vector<std::thread> pool;
  const auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < threads; ++k)
    pool.emplace_back([&, k] {
      const double c0 = thread_cpu_seconds();
      uint64_t n = 0;
      for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < docs.size();) {
        try {
          n += tok.encode(docs[i], add_special).size();
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (error.empty()) error = fmt::format("{}: document {}: {}", source, i + 1, e.what());
          next = docs.size();
        }
      }
      total += n;
      cpu[static_cast<size_t>(k)] = thread_cpu_seconds() - c0;
    });
  for (auto& th : pool) th.join();
  if (!error.empty()) throw InputError(error);
  Pass p;
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (double c : cpu) p.cpu_seconds += c;
  p.tokens = total;
  return p;
}

// Removes the generated text's file however the bench ends.
struct RemoveOnExit {
  std::filesystem::path path;
  ~RemoveOnExit() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove(path, ec);
  }
};

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void run_hf(const TokenizerBenchOptions& opt, const std::string& text_path, TokenizerBenchResult& r) {
  if (opt.hf_script.empty()) {
    r.hf_note = "Hugging Face skipped (no --hf-script)";
    return;
  }
  if (!std::filesystem::exists(opt.hf_script)) {
    r.hf_note = fmt::format("Hugging Face skipped: {} not found (run from the repository root or pass --hf-script)",
                            opt.hf_script);
    return;
  }
  // One rayon thread: encodeBatch then runs its documents one after another.
  const std::string cmd = fmt::format(
      "RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false {} {} --tokenizer {} --text {} --reps {}{} 2>&1",
      shell_quote(opt.node), shell_quote(opt.hf_script), shell_quote(opt.tokenizer), shell_quote(text_path),
      opt.reps, opt.add_special_tokens ? "" : " --no-special");
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) {
    r.hf_note = "Hugging Face skipped: cannot start a shell for node";
    return;
  }
  std::string output;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) output.append(buf, n);
  const int status = ::pclose(pipe);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 127) {
    r.hf_note = fmt::format("Hugging Face skipped: '{}' not found (install Node.js, or pass --node)", opt.node);
    return;
  }
  nlohmann::json j;
  for (size_t end = output.size(); end > 0;) {  // the last JSON line
    size_t start = output.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    const std::string line = output.substr(start, end - start);
    if (!line.empty() && line[0] == '{') {
      j = nlohmann::json::parse(line, nullptr, false);
      break;
    }
    end = start > 0 ? start - 1 : 0;
  }
  if (j.is_object() && j.contains("error")) {
    r.hf_note = "Hugging Face skipped: " + j["error"].get<std::string>();
    return;
  }
  if (code != 0 || !j.is_object() || !j.contains("seconds") || !j.contains("tokens")) {
    r.hf_note = fmt::format("Hugging Face skipped: node exited with {} and no result; its output:\n{}", code, output);
    return;
  }
  r.hf_ran = true;
  r.hf.threads = 1;
  r.hf.seconds = j["seconds"].get<double>();
  r.hf_tokens = j["tokens"].get<uint64_t>();
  r.hf.mb_per_s = static_cast<double>(r.bytes) / 1e6 / r.hf.seconds;
  r.hf.tokens_per_s = static_cast<double>(r.hf_tokens) / r.hf.seconds;
  r.hf_note = fmt::format("tokenizers {} (npm, node {}), {}", j.value("version", std::string("?")),
                          j.value("node", std::string("?")), j.value("mode", std::string("?")));
}

}  // namespace

std::vector<std::string> generate_tokenizer_text(size_t bytes, uint64_t seed) {
  Rng r{seed};
  std::vector<std::string> docs;
  size_t total = 0;
  while (total < bytes) {
    std::string doc;
    const size_t target = 500 + r.below(7500);
    const size_t kind = r.below(10);
    if (kind < 5) {
      prose(r, doc, target);
    } else if (kind < 7) {
      code(r, doc, target);
    } else if (kind < 9) {
      multilingual(r, doc, target);
    } else {  // a mix within one document
      prose(r, doc, target / 3);
      doc += "\n\n";
      code(r, doc, 2 * target / 3);
      doc += "\n";
      multilingual(r, doc, target);
    }
    total += doc.size();
    docs.push_back(std::move(doc));
  }
  return docs;
}

TokenizerBenchResult tokenizer_bench(const TokenizerBenchOptions& opt) {
  namespace fs = std::filesystem;
  TokenizerBenchResult r;
  const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(opt.tokenizer);
  std::vector<std::string> docs;
  std::string text_path = opt.text;
  RemoveOnExit temp;
  if (opt.text.empty()) {
    docs = generate_tokenizer_text(opt.generated_bytes);
    temp.path = fs::temp_directory_path() / fmt::format("ntks-tokenizer-bench-{}.jsonl", ::getpid());
    std::string jsonl;
    for (const std::string& d : docs) jsonl += nlohmann::json{{"text", d}}.dump() + "\n";
    write_file_atomic(temp.path.string(), jsonl);
    text_path = temp.path.string();
    r.text_source = "generated (prose, code, numbers, CJK, Cyrillic, Arabic, accents, emoji, whitespace runs)";
  } else {
    docs = read_documents(opt.text);
    r.text_source = opt.text;
  }
  r.documents = docs.size();
  for (const std::string& d : docs) r.bytes += d.size();

  // Rounds over all thread counts, so that other work on the machine slows
  // every count alike rather than one of them.
  r.ours.resize(opt.threads.size());
  for (int rep = 0; rep < std::max(1, opt.reps); ++rep) {
    for (size_t k = 0; k < opt.threads.size(); ++k) {
      TokenizerRate& rate = r.ours[k];
      const Pass p = encode_pass(tok, docs, opt.threads[k], opt.add_special_tokens, text_path);
      if (rep == 0 || p.seconds < rate.seconds) {
        rate.threads = opt.threads[k];
        rate.seconds = p.seconds;
        rate.cpu_seconds = p.cpu_seconds;
      }
      r.tokens = p.tokens;
    }
  }
  for (TokenizerRate& rate : r.ours) {
    rate.mb_per_s = static_cast<double>(r.bytes) / 1e6 / rate.seconds;
    rate.tokens_per_s = static_cast<double>(r.tokens) / rate.seconds;
  }
  run_hf(opt, text_path, r);
  return r;
}

}  // namespace ntks::bench
