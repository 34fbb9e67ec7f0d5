#include "store/meta_schema.h"

#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

namespace kdfs::schema {

namespace {

using Json = nlohmann::ordered_json;

std::string KeyOf(std::string_view prefix, uint64_t ino) {
  std::string key(prefix);
  key += std::to_string(ino);
  return key;
}

template <typename T>
bool ParseInteger(std::string_view text, T* out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

const std::string* Find(const KvFields& fields, std::string_view name) {
  auto it = fields.find(std::string(name));
  return it == fields.end() ? nullptr : &it->second;
}

Json InfoToJson(const FileInfo& info) {
  Json j;
  j["ino"] = info.ino;
  j["dir"] = info.is_dir;
  j["size"] = info.size;
  j["mode"] = info.mode;
  j["mtime"] = info.mtime.Encode();
  j["version"] = info.version;
  j["etag"] = info.etag;
  j["ctype"] = info.content_type;
  j["csize"] = info.chunk_size;
  return j;
}

}  // namespace

std::string InodeKey(uint64_t ino) {
  return KeyOf(kInodePrefix, ino);
}
std::string DirentKey(uint64_t ino) {
  return KeyOf(kDirentPrefix, ino);
}
std::string IndexKey(uint64_t ino) {
  return KeyOf(kIndexPrefix, ino);
}

bool ParseU64(std::string_view text, uint64_t* out) {
  return ParseInteger(text, out);
}
bool ParseI64(std::string_view text, int64_t* out) {
  return ParseInteger(text, out);
}

const std::vector<std::string>& ListFields() {
  static const std::vector<std::string>* fields = new std::vector<std::string>{
      std::string(kType),    std::string(kSize), std::string(kMode),        std::string(kMtime),
      std::string(kVersion), std::string(kEtag), std::string(kContentType), std::string(kChunkSize),
      std::string(kParent),  std::string(kName)};
  return *fields;
}

void PutInode(const FileInfo& info, uint64_t parent, std::string_view name, WriteBatch* batch) {
  const std::string key = InodeKey(info.ino);
  batch->HSet(key, kType, info.is_dir ? kTypeDir : kTypeFile);
  batch->HSet(key, kSize, std::to_string(info.size));
  batch->HSet(key, kMode, std::to_string(info.mode));
  batch->HSet(key, kMtime, info.mtime.Encode());
  batch->HSet(key, kVersion, std::to_string(info.version));
  batch->HSet(key, kParent, std::to_string(parent));
  batch->HSet(key, kName, name);
  if (info.is_dir) return;
  batch->HSet(key, kEtag, info.etag);
  batch->HSet(key, kContentType, info.content_type);
  batch->HSet(key, kChunkSize, std::to_string(info.chunk_size));
  std::string chunks;
  chunks.reserve(info.chunks.size() * 32);
  for (const auto& c : info.chunks) {
    chunks.append(reinterpret_cast<const char*>(c.bytes.data()), c.bytes.size());
  }
  batch->HSet(key, kChunks, chunks);
}

void PutDirent(uint64_t dir, std::string_view name, uint64_t child, WriteBatch* batch) {
  batch->HSet(DirentKey(dir), name, std::to_string(child));
  batch->ZAdd(IndexKey(dir), name);
}

void DelDirent(uint64_t dir, std::string_view name, WriteBatch* batch) {
  batch->HDel(DirentKey(dir), name);
  batch->ZRem(IndexKey(dir), name);
}

Result<FileInfo> ParseInode(uint64_t ino, const KvFields& fields) {
  auto bad = [ino](std::string_view field) {
    return Status::Corruption("inode " + std::to_string(ino) + ": bad field '" +
                              std::string(field) + "'");
  };
  FileInfo info;
  info.ino = ino;
  const std::string* type = Find(fields, kType);
  if (type == nullptr || (*type != kTypeDir && *type != kTypeFile)) return bad(kType);
  info.is_dir = *type == kTypeDir;
  if (const auto* v = Find(fields, kSize); v && !ParseU64(*v, &info.size)) return bad(kSize);
  if (const auto* v = Find(fields, kMode); v && !ParseInteger(*v, &info.mode)) return bad(kMode);
  if (const auto* v = Find(fields, kVersion); v && !ParseI64(*v, &info.version)) {
    return bad(kVersion);
  }
  if (const auto* v = Find(fields, kChunkSize); v && !ParseInteger(*v, &info.chunk_size)) {
    return bad(kChunkSize);
  }
  if (const auto* v = Find(fields, kMtime)) {
    auto hlc = Hlc::Decode(*v);
    if (!hlc.ok()) return bad(kMtime);
    info.mtime = std::move(*hlc);
  }
  if (const auto* v = Find(fields, kEtag)) info.etag = *v;
  if (const auto* v = Find(fields, kContentType)) info.content_type = *v;
  if (const auto* v = Find(fields, kChunks)) {
    if (v->size() % 32 != 0) return bad(kChunks);
    info.chunks.resize(v->size() / 32);
    for (size_t i = 0; i < info.chunks.size(); ++i) {
      std::memcpy(info.chunks[i].bytes.data(), v->data() + 32 * i, 32);
    }
  }
  return info;
}

std::string EncodeOutcome(const ApplyOutcome& outcome) {
  Json j;
  j["code"] = WireNameOf(outcome.status.code());
  j["message"] = outcome.status.message();
  j["version"] = outcome.version;
  j["created"] = outcome.created;
  j["info"] = InfoToJson(outcome.info);
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<ApplyOutcome> DecodeOutcome(std::string_view op_id, std::string_view json) {
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  auto bad = [&] {
    return Status::Corruption("remembered outcome of op " + std::string(op_id) + " is malformed");
  };
  if (!j.is_object()) return bad();
  try {
    ApplyOutcome out;
    out.op_id = std::string(op_id);
    const Code code = CodeFromWireName(j.at("code").get<std::string>().c_str());
    out.status = Status(code, j.at("message").get<std::string>());
    out.version = j.at("version").get<int64_t>();
    out.created = j.at("created").get<bool>();
    const Json& i = j.at("info");
    out.info.ino = i.at("ino").get<uint64_t>();
    out.info.is_dir = i.at("dir").get<bool>();
    out.info.size = i.at("size").get<uint64_t>();
    out.info.mode = i.at("mode").get<uint32_t>();
    auto hlc = Hlc::Decode(i.at("mtime").get<std::string>());
    if (!hlc.ok()) return bad();
    out.info.mtime = std::move(*hlc);
    out.info.version = i.at("version").get<int64_t>();
    out.info.etag = i.at("etag").get<std::string>();
    out.info.content_type = i.at("ctype").get<std::string>();
    out.info.chunk_size = i.at("csize").get<uint32_t>();
    return out;
  } catch (const nlohmann::json::exception&) {
    return bad();
  }
}

}  // namespace kdfs::schema
