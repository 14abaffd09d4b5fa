#pragma once
// Loads spec/vectors/<name>.json for the C++ tests.
#include <simdjson.h>

#include <fstream>
#include <sstream>
#include <string>

namespace wse::test {

inline simdjson::dom::element load_vectors(simdjson::dom::parser& parser, const std::string& name) {
  std::ifstream in(std::string(WSE_SOURCE_DIR) + "/spec/vectors/" + name + ".json");
  std::stringstream ss;
  ss << in.rdbuf();
  return parser.parse(ss.str());
}

inline std::string unhex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

}  // namespace wse::test
