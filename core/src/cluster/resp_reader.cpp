#include "wse/cluster/resp_reader.hpp"

#include <hiredis/read.h>

#include <algorithm>
#include <new>

namespace wse::cluster {

namespace {

// Object callbacks for redisReader. A child is appended to its parent's element
// vector as it arrives (hiredis creates children in index order), so only roots
// are heap objects and only roots are ever freed through freeObject, and memory
// grows with the bytes received, not with the element count a header announces.
// Appending is safe: the pointers hiredis keeps are those of the arrays still
// being filled (the path from the root), each the last element of its parent,
// and a vector only grows when its previous last element is complete.
struct Context {
  std::size_t max_elements;
};

RespValue* slot_for(const redisReadTask* task) {
  if (task->parent == nullptr) return new (std::nothrow) RespValue();
  auto* parent = static_cast<RespValue*>(task->parent->obj);
  const auto idx = static_cast<std::size_t>(task->idx);
  if (parent == nullptr || idx != parent->elements.size()) return nullptr;
  try {
    return &parent->elements.emplace_back();
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
  RespValue* v = slot_for(task);
  if (v == nullptr) return nullptr;
  switch (task->type) {
    case REDIS_REPLY_ERROR:
      v->type = RespType::Error;
      break;
    case REDIS_REPLY_STATUS:
      v->type = RespType::Status;
      break;
    default:
      v->type = RespType::String;
      break;
  }
  try {
    v->str.assign(str, len);
  } catch (const std::bad_alloc&) {
    if (task->parent == nullptr) delete v;
    return nullptr;
  }
  return v;
}

void* create_array(const redisReadTask* task, int elements) {
  // The reader's privdata (copied into every task) carries the limit.
  const auto* ctx = static_cast<const Context*>(task->privdata);
  const std::size_t limit = ctx != nullptr ? ctx->max_elements : RespLimits{}.max_array_elements;
  if (elements < 0 || static_cast<std::size_t>(elements) > limit) return nullptr;
  RespValue* v = slot_for(task);
  if (v == nullptr) return nullptr;
  v->type = RespType::Array;
  try {
    v->elements.reserve(std::min<std::size_t>(static_cast<std::size_t>(elements), 16));
  } catch (const std::bad_alloc&) {
    if (task->parent == nullptr) delete v;
    return nullptr;
  }
  return v;
}

void* create_integer(const redisReadTask* task, long long value) {
  RespValue* v = slot_for(task);
  if (v == nullptr) return nullptr;
  v->type = RespType::Integer;
  v->integer = value;
  return v;
}

void* create_nil(const redisReadTask* task) {
  RespValue* v = slot_for(task);
  if (v == nullptr) return nullptr;
  v->type = RespType::Nil;
  return v;
}

void free_object(void* obj) { delete static_cast<RespValue*>(obj); }

redisReplyObjectFunctions kFunctions = {create_string, create_array, create_integer, create_nil, free_object};

}  // namespace

RespReader::RespReader(RespLimits limits) : limits_(limits) {
  reader_ = redisReaderCreateWithFunctions(&kFunctions);
  if (reader_ == nullptr) throw std::bad_alloc();
  auto* ctx = new Context{limits_.max_array_elements};
  reader_->privdata = ctx;
}

RespReader::~RespReader() {
  if (reader_ != nullptr) {
    delete static_cast<Context*>(reader_->privdata);
    redisReaderFree(reader_);
  }
}

std::size_t RespReader::buffered() const noexcept { return reader_->len - reader_->pos; }

bool RespReader::feed(std::string_view bytes) {
  if (failed()) return false;
  if (buffered() + bytes.size() > limits_.max_buffered_bytes) {
    error_ = "reply larger than " + std::to_string(limits_.max_buffered_bytes) + " bytes";
    return false;
  }
  if (redisReaderFeed(reader_, bytes.data(), bytes.size()) != REDIS_OK) {
    error_ = reader_->errstr[0] != '\0' ? reader_->errstr : "protocol error";
    return false;
  }
  return true;
}

std::optional<RespValue> RespReader::next() {
  if (failed()) return std::nullopt;
  void* reply = nullptr;
  if (redisReaderGetReply(reader_, &reply) != REDIS_OK) {
    error_ = reader_->err == REDIS_ERR_OOM
                 ? std::string("reply over the size limits (or out of memory)")
                 : std::string(reader_->errstr[0] != '\0' ? reader_->errstr : "protocol error");
    return std::nullopt;
  }
  if (reply == nullptr) return std::nullopt;
  auto* v = static_cast<RespValue*>(reply);
  RespValue out = std::move(*v);
  delete v;
  return out;
}

}  // namespace wse::cluster
