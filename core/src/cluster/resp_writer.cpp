#include "wse/cluster/resp_writer.hpp"

#include <charconv>

namespace wse::cluster {

namespace {

void append_prefixed_number(std::string& out, char prefix, std::size_t n) {
  char buf[24];
  buf[0] = prefix;
  auto [end, ec] = std::to_chars(buf + 1, buf + sizeof buf - 2, n);
  (void)ec;  // 20 digits always fit
  *end++ = '\r';
  *end++ = '\n';
  out.append(buf, static_cast<std::size_t>(end - buf));
}

}  // namespace

void append_array_header(std::string& out, std::size_t count) { append_prefixed_number(out, '*', count); }

void append_bulk_header(std::string& out, std::size_t size) { append_prefixed_number(out, '$', size); }

void append_bulk(std::string& out, std::string_view arg) {
  append_bulk_header(out, arg.size());
  out.append(arg);
  out.append("\r\n", 2);
}

void append_command(std::string& out, std::initializer_list<std::string_view> args) {
  append_array_header(out, args.size());
  for (std::string_view a : args) append_bulk(out, a);
}

void append_command(std::string& out, const std::vector<std::string_view>& args) {
  append_array_header(out, args.size());
  for (std::string_view a : args) append_bulk(out, a);
}

}  // namespace wse::cluster
