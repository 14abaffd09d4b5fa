#include "wse/filter/regex.hpp"

#include <re2/re2.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "wse/util/errors.hpp"

namespace wse::filter {

namespace {

constexpr std::size_t kCacheLimit = 512;  // distinct (pattern, options) pairs kept compiled

struct Cache {
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const re2::RE2>> compiled;
};

Cache& cache() {
  static Cache* c = new Cache();  // leaked on purpose: usable during static destruction
  return *c;
}

std::shared_ptr<const re2::RE2> compile(std::string_view pattern, std::string_view options) {
  std::string key(options);
  key.push_back('\0');
  key.append(pattern);
  Cache& c = cache();
  {
    std::lock_guard lock(c.mu);
    auto it = c.compiled.find(key);
    if (it != c.compiled.end()) return it->second;
  }
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  bool multiline = false;
  for (char o : options) {
    switch (o) {
      case 'i':
        opts.set_case_sensitive(false);
        break;
      case 'm':
        multiline = true;
        break;
      case 's':
        opts.set_dot_nl(true);
        break;
      default:
        throw InvalidArgument(std::string("$options: unsupported flag '") + o + "' (use i, m, s)");
    }
  }
  std::string source(pattern);
  if (multiline) source = "(?m)" + source;
  auto re = std::make_shared<const re2::RE2>(source, opts);
  if (!re->ok()) throw InvalidArgument("invalid $regex '" + std::string(pattern) + "': " + re->error());
  std::lock_guard lock(c.mu);
  if (c.compiled.size() >= kCacheLimit) c.compiled.clear();
  c.compiled.emplace(std::move(key), re);
  return re;
}

}  // namespace

bool regex_search(std::string_view pattern, std::string_view text, std::string_view options) {
  const auto re = compile(pattern, options);
  return re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re);
}

}  // namespace wse::filter
