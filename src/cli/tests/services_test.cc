// services register / deregister: the registration body from flags and from JSON files,
// Consul's argument rules, texts and errors.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/commands/services/service_file.h"
#include "cli/tests/harness.h"

namespace pc::cli {
namespace {

using testing::Harness;
namespace json = boost::json;

// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    path_ = (std::filesystem::temp_directory_path() / "pc-cli-test-XXXXXX").string();
    if (mkdtemp(path_.data()) == nullptr) path_.clear();
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ServicesRegister, FromFlags) {
  Harness h;
  h.reply(200, "");
  EXPECT_EQ(
      h.run({"services", "register", "-name=web", "-id=web-1", "-address=10.0.0.5", "-port=8080",
             "-tag=v1", "-tag", "primary", "-meta", "version=1.2", "-meta=team=a=b"}),
      0)
      << h.err.str();
  EXPECT_EQ(h.out.str(), "Registered service: web\n");
  EXPECT_EQ(h.err.str(), "");
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].method, "PUT");
  EXPECT_EQ(h.requests[0].path, "/v1/agent/service/register");
  // api.AgentServiceRegistration's field order; Check and Checks are never left out.
  EXPECT_EQ(h.requests[0].body, R"({"ID":"web-1","Name":"web","Tags":["v1","primary"],"Port":8080,)"
                                R"("Address":"10.0.0.5","Meta":{"team":"a=b","version":"1.2"},)"
                                R"("Check":null,"Checks":null})");
  EXPECT_EQ(*h.requests[0].header("Content-Type"), "application/json");

  Harness minimal;
  minimal.reply(200, "");
  EXPECT_EQ(minimal.run({"services", "register", "-name", "db", "-datacenter=dc1"}), 0);
  EXPECT_EQ(minimal.requests[0].path, "/v1/agent/service/register?dc=dc1");
  EXPECT_EQ(minimal.requests[0].body, R"({"Name":"db","Check":null,"Checks":null})");
}

TEST(ServicesRegister, ArgumentRules) {
  Harness none;
  EXPECT_EQ(none.run({"services", "register"}), 1);
  EXPECT_EQ(none.err.str(), "Service registration requires at least one argument or flags.\n");
  Harness both;
  EXPECT_EQ(both.run({"services", "register", "-name=web", "web.json"}), 1);
  EXPECT_EQ(both.err.str(), "Service registration requires arguments or -id, not both.\n");
  Harness meta;
  EXPECT_EQ(meta.run({"services", "register", "-name=web", "-meta=novalue"}), 1);
  EXPECT_EQ(meta.err.str().rfind("invalid value \"novalue\" for flag -meta: Missing \"=\" value "
                                 "in argument: novalue\n",
                                 0),
            0u);
  Harness port;
  EXPECT_EQ(port.run({"services", "register", "-name=web", "-port=http"}), 1);
  EXPECT_EQ(port.err.str().rfind("invalid value \"http\" for flag -port: ", 0), 0u);
  for (Harness* h : {&none, &both, &meta, &port}) EXPECT_TRUE(h->requests.empty());
}

TEST(ServicesRegister, HttpErrorsNameTheService) {
  Harness h;
  h.reply(400, "Invalid service address");
  EXPECT_EQ(h.run({"services", "register", "-name=x"}), 1);
  EXPECT_EQ(h.out.str(), "");
  EXPECT_EQ(h.err.str(),
            "Error registering service \"x\": Unexpected response code: 400 (Invalid service "
            "address)\n");
  Harness down;
  down.fail("Error querying agent at http://127.0.0.1:8500: connection refused");
  EXPECT_EQ(down.run({"services", "register", "-name=x"}), 1);
  EXPECT_EQ(down.err.str(), "Error querying agent at http://127.0.0.1:8500: connection refused\n");
}

TEST(ServicesRegister, FromFilesInOrder) {
  TempDir dir;
  std::string one = dir.write("web.json", R"({"service": {
      "id": "web-1", "name": "web", "tags": ["v1"], "port": 80, "address": "10.0.0.1",
      "meta": {"team": "a"}, "enable_tag_override": true, "token": "secret",
      "weights": {"passing": 3, "warning": 1},
      "tagged_addresses": {"lan": {"address": "10.0.0.1", "port": 80}},
      "check": {"id": "web-ttl", "ttl": "10s", "DeregisterCriticalServiceAfter": "1m"}}})");
  std::string two = dir.write("more.json", R"({"services": [
      {"name": "db", "port": 5432, "checks": [{"name": "tcp", "tcp": "localhost:5432",
                                               "interval": "5s", "args": ["x"]}]},
      {"Name": "cache", "Port": 6379.0}]})");
  Harness h;
  h.reply(200, "");
  h.reply(200, "");
  h.reply(200, "");
  EXPECT_EQ(h.run({"services", "register", one, two}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(),
            "Registered service: web\nRegistered service: db\nRegistered service: cache\n");
  ASSERT_EQ(h.requests.size(), 3u);
  EXPECT_EQ(json::parse(h.requests[0].body), json::parse(R"({
      "ID": "web-1", "Name": "web", "Tags": ["v1"], "Port": 80, "Address": "10.0.0.1",
      "Meta": {"team": "a"}, "EnableTagOverride": true,
      "Weights": {"Passing": 3, "Warning": 1},
      "TaggedAddresses": {"lan": {"Address": "10.0.0.1", "Port": 80}},
      "Check": {"CheckID": "web-ttl", "TTL": "10s", "DeregisterCriticalServiceAfter": "1m"},
      "Checks": null})"));
  EXPECT_EQ(json::parse(h.requests[1].body), json::parse(R"({
      "Name": "db", "Port": 5432, "Check": null,
      "Checks": [{"Name": "tcp", "TCP": "localhost:5432", "Interval": "5s",
                  "ScriptArgs": ["x"]}]})"));
  EXPECT_EQ(json::parse(h.requests[2].body),
            json::parse(R"({"Name": "cache", "Port": 6379, "Check": null, "Checks": null})"));
}

// The keys come from the agent config loader's table: a duration may be nanoseconds, as
// there, and a check's own service_id is not sent (the check belongs to its service).
TEST(ServicesRegister, KeysAreTheConfigLoaders) {
  std::ostringstream warnings;
  core::Result<std::vector<ServiceDefinition>> defs = services_from_json(
      R"({"service": {"name": "web", "check": {"service_id": "other", "Interval": 5000000000,
                                               "tcp": "localhost:80", "Token": "t"}}})",
      "x.json", warnings);
  ASSERT_TRUE(defs) << defs.error().message;
  ASSERT_EQ(defs->size(), 1u);
  EXPECT_EQ(json::value((*defs)[0].body), json::parse(R"({"Name": "web", "Checks": null,
      "Check": {"Interval": 5000000000, "TCP": "localhost:80"}})"));
  core::Result<std::vector<ServiceDefinition>> bad = services_from_json(
      R"({"service": {"name": "web", "check": {"ttl": true}}})", "x.json", warnings);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "failed to parse x.json: service.check.ttl: expected a duration, got bool");
  EXPECT_EQ(warnings.str(), "");
}

TEST(ServicesRegister, FromADirectory) {
  TempDir dir;
  dir.write("b.json", R"({"service": {"name": "b"}})");
  dir.write("a.json", R"({"service": {"name": "a"}})");
  dir.write("README", "not a definition");
  std::filesystem::create_directory(dir.path() + "/sub");
  dir.write("sub/c.json", R"({"service": {"name": "c"}})");
  Harness h;
  h.reply(200, "");
  h.reply(200, "");
  EXPECT_EQ(h.run({"services", "register", dir.path()}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "Registered service: a\nRegistered service: b\n");
  EXPECT_EQ(h.err.str(), "skipping file " + dir.path() + "/README, extension must be .json\n");
}

TEST(ServicesRegister, FileErrors) {
  TempDir dir;
  struct Case {
    std::string file;
    std::string text;
    std::string error;
  };
  const std::string d = dir.path();
  const Case cases[] = {
      {"web.hcl", "service { name = \"web\" }",
       "Error: failed to parse " + d +
           "/web.hcl: HCL is not supported yet; write the service definition as JSON in a "
           ".json file\n"},
      {"web.txt", "{}", "Error: file " + d + "/web.txt has unknown extension; must be .json\n"},
      {"typo.json", R"({"service": {"name": "web", "prot": 80}})",
       "Error: failed to parse " + d + "/typo.json: invalid config key service.prot\n"},
      {"check.json", R"({"services": [{"name": "a"}, {"name": "b", "checks": [{"tll": "1s"}]}]})",
       "Error: failed to parse " + d +
           "/check.json: invalid config key services[1].checks[0].tll\n"},
      {"type.json", R"({"service": {"name": "web", "port": "80"}})",
       "Error: failed to parse " + d +
           "/type.json: service.port: expected an integer, got string\n"},
      {"tags.json", R"({"service": {"name": "web", "tags": "a,b"}})",
       "Error: failed to parse " + d +
           "/tags.json: service.tags: expected an array of strings, got string\n"},
      {"syntax.json", "{\"service\": {\n  \"name\": \"web\",\n}}",
       "Error: failed to parse " + d + "/syntax.json: syntax error at line 3, column 1\n"},
      {"list.json", R"({"services": {"name": "web"}})",
       "Error: failed to parse " + d +
           "/list.json: services: expected an array of objects, got "
           "object\n"},
      {"array.json", "[]",
       "Error: failed to parse " + d + "/array.json: expected a JSON object, got array\n"},
  };
  for (const Case& c : cases) {
    std::string path = dir.write(c.file, c.text);
    Harness h;
    EXPECT_EQ(h.run({"services", "register", path}), 1) << c.file;
    EXPECT_EQ(h.err.str(), c.error) << c.file;
    EXPECT_TRUE(h.requests.empty()) << c.file;
  }
  Harness missing;
  EXPECT_EQ(missing.run({"services", "register", d + "/nope.json"}), 1);
  EXPECT_EQ(missing.err.str(), "Error: config: Open failed on " + d + "/nope.json. open " + d +
                                   "/nope.json: no such file or directory\n");
  // A .hcl file inside a directory is an error too, not a file silently skipped.
  TempDir hcl_dir;
  hcl_dir.write("a.hcl", "service {}");
  Harness in_dir;
  EXPECT_EQ(in_dir.run({"services", "register", hcl_dir.path()}), 1);
  EXPECT_NE(in_dir.err.str().find("HCL is not supported yet"), std::string::npos);
}

TEST(ServicesRegister, OtherAgentKeysAreIgnoredWithAWarning) {
  std::ostringstream warnings;
  core::Result<std::vector<ServiceDefinition>> defs = services_from_json(
      R"({"datacenter": "dc1", "service": {"name": "web"}, "services": [{"name": "db"}]})",
      "x.json", warnings);
  ASSERT_TRUE(defs) << defs.error().message;
  // Consul appends the single "service" after the "services" list.
  ASSERT_EQ(defs->size(), 2u);
  EXPECT_EQ((*defs)[0].name, "db");
  EXPECT_EQ((*defs)[1].name, "web");
  EXPECT_EQ(warnings.str(),
            "x.json: ignoring \"datacenter\": only \"service\" and \"services\" are read by this "
            "command\n");
}

TEST(ServicesRegister, AFileWithoutANameIsTheServersToRefuse) {
  TempDir dir;
  std::string file = dir.write("anon.json", R"({"service": {"port": 80}})");
  Harness h;
  h.reply(400, "Missing service name");
  EXPECT_EQ(h.run({"services", "register", file}), 1);
  EXPECT_EQ(h.err.str(),
            "Error registering service \"\": Unexpected response code: 400 (Missing service "
            "name)\n");
}

TEST(ServicesDeregister, ById) {
  Harness h;
  h.reply(200, "");
  EXPECT_EQ(h.run({"services", "deregister", "-id=web 1"}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "Deregistered service: web 1\n");
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].method, "PUT");
  EXPECT_EQ(h.requests[0].path, "/v1/agent/service/deregister/web%201");
  EXPECT_EQ(h.requests[0].body, "");
}

TEST(ServicesDeregister, FromFilesByIdElseName) {
  TempDir dir;
  std::string file = dir.write("s.json", R"({"services": [{"id": "web-1", "name": "web"},
                                                          {"name": "db"}, {"port": 1}]})");
  Harness h;
  h.reply(200, "");
  h.reply(200, "");
  EXPECT_EQ(h.run({"services", "deregister", file}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "Deregistered service: web-1\nDeregistered service: db\n");
  ASSERT_EQ(h.requests.size(), 2u);
  EXPECT_EQ(h.requests[0].path, "/v1/agent/service/deregister/web-1");
  EXPECT_EQ(h.requests[1].path, "/v1/agent/service/deregister/db");
}

TEST(ServicesDeregister, Errors) {
  Harness none;
  EXPECT_EQ(none.run({"services", "deregister"}), 1);
  EXPECT_EQ(none.err.str(), "Service deregistration requires at least one argument or -id.\n");
  Harness both;
  EXPECT_EQ(both.run({"services", "deregister", "-id=x", "x.json"}), 1);
  EXPECT_EQ(both.err.str(), "Service deregistration requires arguments or -id, not both.\n");

  // With -id Consul has no service name to show, hence "".
  Harness status;
  status.reply(404,
               "Unknown service ID \"x\". Ensure that the service ID is passed, not the "
               "service name.");
  EXPECT_EQ(status.run({"services", "deregister", "-id=x"}), 1);
  EXPECT_EQ(status.err.str(),
            "Error deregistering service \"\": Unexpected response code: 404 (Unknown service ID "
            "\"x\". Ensure that the service ID is passed, not the service name.)\n");
  EXPECT_EQ(status.out.str(), "");
}

TEST(Services, ParentListsItsSubcommands) {
  Harness h;
  EXPECT_EQ(h.run({"services"}), 1);
  EXPECT_NE(h.err.str().find("Subcommands:\n"
                             "    deregister    Deregister services with the local agent\n"
                             "    register      Register services with the local agent\n"),
            std::string::npos)
      << h.err.str();
}

}  // namespace
}  // namespace pc::cli
