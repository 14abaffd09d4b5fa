# Third-party libraries, all from Debian packages installed by scripts/setup.sh.
# Each is wrapped in an imported target named wse::dep::<name> so the core's
# CMakeLists only ever names what a concern is allowed to use.

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(simdjson CONFIG REQUIRED)
find_package(msgpack CONFIG REQUIRED)   # msgpack-c (C API), target msgpackc
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(LIBDEFLATE REQUIRED IMPORTED_TARGET libdeflate)

find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h REQUIRED)
find_library(HTTP_PARSER_LIBRARY NAMES http_parser REQUIRED)
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)

add_library(wse_dep_http_parser INTERFACE)
target_include_directories(wse_dep_http_parser SYSTEM INTERFACE ${HTTP_PARSER_INCLUDE_DIR})
target_link_libraries(wse_dep_http_parser INTERFACE ${HTTP_PARSER_LIBRARY})
add_library(wse::dep::http_parser ALIAS wse_dep_http_parser)

add_library(wse_dep_asio INTERFACE)
target_include_directories(wse_dep_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(wse_dep_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(wse_dep_asio INTERFACE Threads::Threads)
add_library(wse::dep::asio ALIAS wse_dep_asio)

# msgpack-c's C++ half (header-only, Debian libmsgpack-cxx-dev): its visitor parser
# reads untrusted msgpack in wse/compression/msgpack_reader.hpp. Boost is not used.
find_path(MSGPACK_CXX_INCLUDE_DIR msgpack/v2/parse.hpp REQUIRED)
add_library(wse_dep_msgpack_cxx INTERFACE)
target_include_directories(wse_dep_msgpack_cxx SYSTEM INTERFACE ${MSGPACK_CXX_INCLUDE_DIR})
target_compile_definitions(wse_dep_msgpack_cxx INTERFACE MSGPACK_NO_BOOST)
add_library(wse::dep::msgpack_cxx ALIAS wse_dep_msgpack_cxx)

add_library(wse::dep::re2 ALIAS PkgConfig::RE2)
add_library(wse::dep::hiredis ALIAS PkgConfig::HIREDIS)
add_library(wse::dep::libdeflate ALIAS PkgConfig::LIBDEFLATE)
