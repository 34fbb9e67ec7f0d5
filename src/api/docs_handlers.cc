#include "api/docs_handlers.h"

#include "api/api_handlers.h"

namespace kdfs {

namespace {

constexpr std::string_view kAssetPrefix = "/docs/assets/";

// The page: Swagger UI's bundle, started by init.js, reading /v1/openapi.yaml.
constexpr std::string_view kIndexHtml = R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>kdfs HTTP API v1</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
)";

// validatorUrl null: Swagger UI would otherwise send the spec to an outside
// validator for its badge.
constexpr std::string_view kInitJs = R"(window.ui = SwaggerUIBundle({
  url: "/v1/openapi.yaml",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  docExpansion: "list",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
});
)";

// Everything from this node; Swagger UI sets inline styles and shows data: images.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'";

void SendDocument(const HttpRequest& request, ResponseWriter& response, std::string_view type,
                  std::string_view body) {
  response.SetHeader("Content-Type", type);
  response.SetHeader("Content-Security-Policy", kContentSecurityPolicy);
  response.SetHeader("Cache-Control", "no-cache");
  if (request.method == "HEAD") {
    (void)response.BeginStream(200, body.size());
    return;
  }
  (void)response.Send(200, body);
}

void SendEmbedded(const HttpRequest& request, ResponseWriter& response, std::string_view name) {
  auto file = FindEmbeddedFile(name);
  if (!file || name == "openapi.yaml") {
    return SendError(response, Status::NotFound("no such asset: " + std::string(name)));
  }
  SendDocument(request, response, file->content_type, file->data);
}

}  // namespace

std::optional<std::string> ServeDocs(const HttpRequest& request, ResponseWriter& response) {
  std::string_view path = request.path;
  bool is_spec = path == "/v1/openapi.yaml";
  bool is_page = path == "/docs" || path == "/docs/";
  bool is_asset = path.substr(0, kAssetPrefix.size()) == kAssetPrefix;
  if (!is_spec && !is_page && !is_asset) return std::nullopt;
  const char* route = is_spec ? "openapi" : "docs";
  if (request.method != "GET" && request.method != "HEAD") {
    response.SetHeader("Allow", "GET, HEAD");
    SendError(response, Status(Code::kMethodNotAllowed, "use GET"));
    return route;
  }
  if (is_spec) {
    auto spec = FindEmbeddedFile("openapi.yaml");
    SendDocument(request, response, "application/yaml; charset=utf-8", spec ? spec->data : "");
  } else if (is_page) {
    SendDocument(request, response, "text/html; charset=utf-8", kIndexHtml);
  } else if (std::string_view name = path.substr(kAssetPrefix.size()); name == "init.js") {
    SendDocument(request, response, "text/javascript", kInitJs);
  } else {
    SendEmbedded(request, response, name);
  }
  return route;
}

}  // namespace kdfs
