#pragma once
// RESP2 command encoding (arrays of bulk strings), appended to a caller-owned
// buffer so a pipeline of many commands is one contiguous write.
// Pure; thread-safe. hiredis formats commands too, but only into its own
// malloc'd buffers, one per command; appending in place is what pipelining wants.
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace wse::cluster {

void append_command(std::string& out, std::initializer_list<std::string_view> args);
void append_command(std::string& out, const std::vector<std::string_view>& args);

// Array header and one bulk string, for commands built piecewise.
void append_array_header(std::string& out, std::size_t count);
void append_bulk(std::string& out, std::string_view arg);
// "$<size>\r\n": the caller then appends exactly `size` bytes and "\r\n".
void append_bulk_header(std::string& out, std::size_t size);

}  // namespace wse::cluster
