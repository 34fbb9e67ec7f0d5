#include "api/docs_handlers.h"

#include <gtest/gtest.h>

namespace kdfs {
namespace {

TEST(EmbeddedFiles, OpenApiIsTheYamlFile) {
  auto spec = FindEmbeddedFile("openapi.yaml");
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->data.substr(0, 8), "openapi:");
  EXPECT_STREQ(spec->content_type, "application/yaml");
}

TEST(EmbeddedFiles, SwaggerUiIsComplete) {
  auto js = FindEmbeddedFile("swagger-ui-bundle.js");
  ASSERT_TRUE(js.has_value());
  EXPECT_GT(js->data.size(), 100000u);
  EXPECT_NE(js->data.find("SwaggerUIBundle"), std::string_view::npos);
  auto css = FindEmbeddedFile("swagger-ui.css");
  ASSERT_TRUE(css.has_value());
  EXPECT_NE(css->data.find(".swagger-ui"), std::string_view::npos);
}

TEST(EmbeddedFiles, UnknownNameIsAbsent) {
  EXPECT_FALSE(FindEmbeddedFile("nope.js").has_value());
  EXPECT_FALSE(FindEmbeddedFile("").has_value());
}

}  // namespace
}  // namespace kdfs
