#include "http/errors.h"

#include <gtest/gtest.h>

namespace pc::http {
namespace {

TEST(Errors, StatusTable) {
  using core::Code;
  EXPECT_EQ(status_for(Code::kInvalidArgument), 400);
  EXPECT_EQ(status_for(Code::kPermissionDenied), 403);
  EXPECT_EQ(status_for(Code::kNotFound), 404);
  EXPECT_EQ(status_for(Code::kConflict), 409);
  EXPECT_EQ(status_for(Code::kTooLarge), 413);
  for (Code c : {Code::kNotLeader, Code::kUnavailable, Code::kTimeout, Code::kCorruption,
                 Code::kIoError, Code::kInternal}) {
    EXPECT_EQ(status_for(c), 500) << static_cast<int>(c);
  }
}

TEST(Errors, BodyIsTheMessageVerbatim) {
  Response r = error_response(core::make_error(core::Code::kInvalidArgument, "Invalid wait time"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "Invalid wait time");
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
}

TEST(Errors, PermissionDeniedAlwaysSaysSo) {
  EXPECT_EQ(error_response(core::make_error(core::Code::kPermissionDenied, "")).body,
            "Permission denied");
  EXPECT_EQ(error_response(core::make_error(core::Code::kPermissionDenied,
                                            "Permission denied: token lacks key:write"))
                .body,
            "Permission denied: token lacks key:write");
  EXPECT_EQ(error_response(core::make_error(core::Code::kPermissionDenied, "ACL not found")).body,
            "Permission denied: ACL not found");
}

TEST(Errors, DefaultTexts) {
  Response r = error_response(core::make_error(core::Code::kNotLeader, ""));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "No cluster leader");
}

TEST(Errors, MethodNotAllowed) {
  Response r = method_not_allowed("GET", "OPTIONS,PUT");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body, "method GET not allowed");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Allow");
  EXPECT_EQ(r.headers[0].second, "OPTIONS,PUT");
}

}  // namespace
}  // namespace pc::http
