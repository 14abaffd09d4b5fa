// Stand-in for libFuzzer's driver, linked with every fuzz target into one program in
// the ASan+UBSan unit-test build, so that `make test` runs each target for a short,
// bounded time with any compiler: first every committed seed input, then inputs
// mutated from them by a fixed-seed generator (reproducible: the same command
// replays the same inputs). `make fuzz` runs real libFuzzer.
//
//   wse_fuzz_replay --target NAME [--seconds S] [--iterations N] <corpus dir>...
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

// The harnesses, each compiled with its entry point renamed (see CMakeLists.txt).
using FuzzFn = int (*)(const std::uint8_t*, std::size_t);
FuzzFn wse_fuzz_lookup(std::string_view name);

namespace {

constexpr std::size_t kMaxInput = 4096;

struct Rng {  // xorshift64*: fast, deterministic
  std::uint64_t s = 0x9E3779B97F4A7C15ull;
  std::uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1Dull;
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

std::string read_file(const std::filesystem::path& path) {
  std::string out;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

FuzzFn target = nullptr;

void run(const std::string& input) {
  target(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

std::string mutate(const std::vector<std::string>& corpus, Rng& rng) {
  std::string s = corpus[rng.below(corpus.size())];
  const std::size_t steps = 1 + rng.below(4);
  for (std::size_t i = 0; i < steps; ++i) {
    const std::size_t pos = rng.below(s.size() + 1);
    switch (rng.below(7)) {
      case 0:  // flip a bit
        if (!s.empty()) s[pos % s.size()] = static_cast<char>(s[pos % s.size()] ^ (1 << rng.below(8)));
        break;
      case 1:  // insert a random byte
        s.insert(pos, 1, static_cast<char>(rng.next()));
        break;
      case 2:  // erase a run
        if (!s.empty()) s.erase(pos % s.size(), 1 + rng.below(8));
        break;
      case 3:  // set an interesting byte
        if (!s.empty()) {
          static constexpr char kBytes[] = {'\0', '\x7f', '\x80', '\xff', '.', '{', '"', '\\', '$', '*'};
          s[pos % s.size()] = kBytes[rng.below(sizeof kBytes)];
        }
        break;
      case 4:  // truncate
        s.resize(pos);
        break;
      case 5: {  // splice in part of another input
        const std::string& other = corpus[rng.below(corpus.size())];
        const std::size_t from = rng.below(other.size() + 1);
        s.insert(pos, other.substr(from, rng.below(64)));
        break;
      }
      default:  // duplicate a chunk
        if (!s.empty()) s.insert(pos, s.substr(rng.below(s.size()), rng.below(32)));
        break;
    }
  }
  if (s.size() > kMaxInput) s.resize(kMaxInput);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2.0;
  std::uint64_t iterations = 1'000'000;
  std::vector<std::string> corpus;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--target" && i + 1 < argc) {
      target = wse_fuzz_lookup(argv[++i]);
      if (target == nullptr) {
        std::fprintf(stderr, "unknown fuzz target %s\n", argv[i]);
        return 2;
      }
    } else if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--iterations" && i + 1 < argc) {
      iterations = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg))
        if (entry.is_regular_file()) corpus.push_back(read_file(entry.path()));
    } else {
      std::fprintf(stderr, "usage: %s --target NAME [--seconds S] [--iterations N] <corpus dir>...\n",
                   argv[0]);
      return 2;
    }
  }
  if (target == nullptr) {
    std::fprintf(stderr, "--target NAME is required\n");
    return 2;
  }
  if (corpus.empty()) corpus.emplace_back();
  for (const auto& input : corpus) run(input);
  Rng rng;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::uint64_t n = 0;
  for (; n < iterations; ++n) {
    if ((n & 255) == 0 && std::chrono::steady_clock::now() > deadline) break;
    run(mutate(corpus, rng));
  }
  std::printf("replayed %zu seed inputs and %llu mutations\n", corpus.size(),
              static_cast<unsigned long long>(n));
  return 0;
}
