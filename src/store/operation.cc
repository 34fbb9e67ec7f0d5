// Canonical JSON codec of operations and log records (docs/METADATA.md,
// "Record wire format"). Keys are written in one fixed order with
// nlohmann::ordered_json, without whitespace; invalid UTF-8 in a string is
// replaced by U+FFFD, so that Encode(Decode(Encode(x))) == Encode(x) always.
#include "store/operation.h"

#include <limits>
#include <nlohmann/json.hpp>

namespace kdfs {

namespace {

using Json = nlohmann::ordered_json;

constexpr int kFormatVersion = 1;

const char* OpTypeName(OpType type) {
  switch (type) {
    case OpType::kPut:
      return "put";
    case OpType::kDelete:
      return "delete";
    case OpType::kMkdir:
      return "mkdir";
    case OpType::kRename:
      return "rename";
  }
  return "put";
}

Result<OpType> OpTypeFromName(std::string_view name) {
  if (name == "put") return OpType::kPut;
  if (name == "delete") return OpType::kDelete;
  if (name == "mkdir") return OpType::kMkdir;
  if (name == "rename") return OpType::kRename;
  return Status::InvalidArgument("operation: unknown op '" + std::string(name) + "'");
}

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json OperationToJson(const Operation& op) {
  Json j;
  j["v"] = kFormatVersion;
  j["op_id"] = op.op_id;
  j["origin"] = op.origin;
  j["hlc"] = op.hlc.Encode();
  j["op"] = OpTypeName(op.type);
  Json args = Json::object();
  Json pre = Json::object();
  switch (op.type) {
    case OpType::kPut: {
      args["path"] = op.path;
      args["size"] = op.size;
      args["etag"] = op.etag;
      args["chunk_size"] = op.chunk_size;
      Json chunks = Json::array();
      for (const auto& c : op.chunks)
        chunks.push_back(c.Hex());
      args["chunks"] = std::move(chunks);
      args["content_type"] = op.content_type;
      args["mode"] = op.mode;
      if (op.if_match) pre["if_match"] = *op.if_match;
      if (op.if_none_match_any) pre["if_none_match"] = "*";
      break;
    }
    case OpType::kDelete:
      args["path"] = op.path;
      args["recursive"] = op.recursive;
      break;
    case OpType::kMkdir:
      args["path"] = op.path;
      break;
    case OpType::kRename:
      args["from"] = op.path;
      args["to"] = op.to;
      break;
  }
  j["args"] = std::move(args);
  j["preconditions"] = std::move(pre);
  return j;
}

// Typed field access; every failure is kInvalidArgument naming the field.
class Reader {
 public:
  Reader(const Json& j, const char* what) : j_(j), what_(what) {}

  Status Object() const {
    if (!j_.is_object()) return Fail("", "is not a JSON object");
    return Status::Ok();
  }
  Result<std::string> Str(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_string()) return Fail(key, "missing or not a string");
    return it->get<std::string>();
  }
  template <typename T>
  Result<T> Unsigned(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_number_unsigned()) return Fail(key, "missing or not unsigned");
    const uint64_t v = it->get<uint64_t>();
    if (v > std::numeric_limits<T>::max()) return Fail(key, "out of range");
    return static_cast<T>(v);
  }
  Result<int64_t> Int(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_number_integer()) return Fail(key, "missing or not an integer");
    if (it->is_number_unsigned() &&
        it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Fail(key, "out of range");
    }
    return it->get<int64_t>();
  }
  Result<bool> Bool(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_boolean()) return Fail(key, "missing or not a boolean");
    return it->get<bool>();
  }
  Result<const Json*> Sub(const char* key, bool array) const {
    auto it = j_.find(key);
    if (it == j_.end() || (array ? !it->is_array() : !it->is_object())) {
      return Fail(key, array ? "missing or not an array" : "missing or not an object");
    }
    return &*it;
  }
  bool Has(const char* key) const { return j_.contains(key); }

  Status Version() const {
    auto v = Int("v");
    if (!v.ok()) return v.status();
    if (*v != kFormatVersion) return Fail("v", "unsupported format version");
    return Status::Ok();
  }

 private:
  Status Fail(std::string_view key, std::string_view why) const {
    std::string msg = std::string(what_) + ": ";
    if (!key.empty()) msg += "field '" + std::string(key) + "' ";
    msg += why;
    return Status::InvalidArgument(msg);
  }

  const Json& j_;
  const char* what_;
};

Status DecodePutArgs(const Reader& args, const Reader& pre, const Json& pre_json, Operation* op) {
  KDFS_ASSIGN_OR_RETURN(op->path, args.Str("path"));
  KDFS_ASSIGN_OR_RETURN(op->size, args.Unsigned<uint64_t>("size"));
  KDFS_ASSIGN_OR_RETURN(op->etag, args.Str("etag"));
  KDFS_ASSIGN_OR_RETURN(op->chunk_size, args.Unsigned<uint32_t>("chunk_size"));
  KDFS_ASSIGN_OR_RETURN(const Json* chunks, args.Sub("chunks", /*array=*/true));
  op->chunks.reserve(chunks->size());
  for (const auto& c : *chunks) {
    if (!c.is_string()) return Status::InvalidArgument("operation: chunk id is not a string");
    KDFS_ASSIGN_OR_RETURN(ChunkId id, ChunkId::FromHex(c.get<std::string>()));
    op->chunks.push_back(id);
  }
  KDFS_ASSIGN_OR_RETURN(op->content_type, args.Str("content_type"));
  KDFS_ASSIGN_OR_RETURN(op->mode, args.Unsigned<uint32_t>("mode"));
  if (pre.Has("if_match")) {
    KDFS_ASSIGN_OR_RETURN(std::string m, pre.Str("if_match"));
    op->if_match = std::move(m);
  }
  if (pre.Has("if_none_match")) {
    auto it = pre_json.find("if_none_match");
    if (!it->is_string() || it->get<std::string>() != "*") {
      return Status::InvalidArgument("operation: if_none_match must be \"*\"");
    }
    op->if_none_match_any = true;
  }
  return Status::Ok();
}

Result<Operation> OperationFromJson(const Json& j) {
  Reader r(j, "operation");
  KDFS_RETURN_IF_ERROR(r.Object());
  KDFS_RETURN_IF_ERROR(r.Version());
  Operation op;
  KDFS_ASSIGN_OR_RETURN(op.op_id, r.Str("op_id"));
  KDFS_ASSIGN_OR_RETURN(op.origin, r.Str("origin"));
  KDFS_ASSIGN_OR_RETURN(std::string hlc, r.Str("hlc"));
  KDFS_ASSIGN_OR_RETURN(op.hlc, Hlc::Decode(hlc));
  KDFS_ASSIGN_OR_RETURN(std::string type, r.Str("op"));
  KDFS_ASSIGN_OR_RETURN(op.type, OpTypeFromName(type));
  KDFS_ASSIGN_OR_RETURN(const Json* args_json, r.Sub("args", false));
  KDFS_ASSIGN_OR_RETURN(const Json* pre_json, r.Sub("preconditions", false));
  Reader args(*args_json, "operation args");
  Reader pre(*pre_json, "operation preconditions");
  switch (op.type) {
    case OpType::kPut:
      KDFS_RETURN_IF_ERROR(DecodePutArgs(args, pre, *pre_json, &op));
      break;
    case OpType::kDelete: {
      KDFS_ASSIGN_OR_RETURN(op.path, args.Str("path"));
      KDFS_ASSIGN_OR_RETURN(op.recursive, args.Bool("recursive"));
      break;
    }
    case OpType::kMkdir: {
      KDFS_ASSIGN_OR_RETURN(op.path, args.Str("path"));
      break;
    }
    case OpType::kRename: {
      KDFS_ASSIGN_OR_RETURN(op.path, args.Str("from"));
      KDFS_ASSIGN_OR_RETURN(op.to, args.Str("to"));
      break;
    }
  }
  return op;
}

Result<Json> Parse(std::string_view text, const char* what) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument(std::string(what) + ": malformed JSON");
  return j;
}

}  // namespace

std::string EncodeOperation(const Operation& op) {
  return Dump(OperationToJson(op));
}

Result<Operation> DecodeOperation(std::string_view json) {
  KDFS_ASSIGN_OR_RETURN(Json j, Parse(json, "operation"));
  return OperationFromJson(j);
}

std::string EncodeLogRecord(const LogRecord& record) {
  Json j;
  j["v"] = kFormatVersion;
  switch (record.kind) {
    case LogRecord::Kind::kOp:
      j["kind"] = "op";
      j["op"] = OperationToJson(record.op);
      break;
    case LogRecord::Kind::kReject:
      j["kind"] = "reject";
      j["op_id"] = record.rejection.op_id;
      j["origin"] = record.rejection.origin;
      j["code"] = WireNameOf(record.rejection.code);
      j["message"] = record.rejection.message;
      break;
    case LogRecord::Kind::kLeader:
      j["kind"] = "leader";
      j["node"] = record.leader.node;
      j["epoch"] = record.leader.epoch;
      break;
  }
  return Dump(j);
}

Result<LogRecord> DecodeLogRecord(std::string_view json) {
  KDFS_ASSIGN_OR_RETURN(Json j, Parse(json, "log record"));
  Reader r(j, "log record");
  KDFS_RETURN_IF_ERROR(r.Object());
  KDFS_RETURN_IF_ERROR(r.Version());
  KDFS_ASSIGN_OR_RETURN(std::string kind, r.Str("kind"));
  LogRecord record;
  if (kind == "op") {
    record.kind = LogRecord::Kind::kOp;
    KDFS_ASSIGN_OR_RETURN(const Json* op, r.Sub("op", false));
    KDFS_ASSIGN_OR_RETURN(record.op, OperationFromJson(*op));
  } else if (kind == "reject") {
    record.kind = LogRecord::Kind::kReject;
    KDFS_ASSIGN_OR_RETURN(record.rejection.op_id, r.Str("op_id"));
    KDFS_ASSIGN_OR_RETURN(record.rejection.origin, r.Str("origin"));
    KDFS_ASSIGN_OR_RETURN(std::string code, r.Str("code"));
    record.rejection.code = CodeFromWireName(code.c_str());
    KDFS_ASSIGN_OR_RETURN(record.rejection.message, r.Str("message"));
  } else if (kind == "leader") {
    record.kind = LogRecord::Kind::kLeader;
    KDFS_ASSIGN_OR_RETURN(record.leader.node, r.Str("node"));
    KDFS_ASSIGN_OR_RETURN(record.leader.epoch, r.Int("epoch"));
  } else {
    return Status::InvalidArgument("log record: unknown kind '" + kind + "'");
  }
  return record;
}

}  // namespace kdfs
