// The dispatcher, help output, common HTTP flags and the agent and version commands.
#include "cli/cli.h"

#include <gtest/gtest.h>

#include "cli/api.h"
#include "cli/build_info.h"
#include "cli/tests/harness.h"
#include "core/config.h"

namespace pc::cli {
namespace {

using testing::Harness;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Dispatch, NoCommandListsCommandsAndExits127) {
  Harness h;
  EXPECT_EQ(h.run({}), kExitUnknownCommand);
  EXPECT_EQ(h.out.str(), "");
  EXPECT_EQ(h.err.str(),
            "Usage: proconsul [--version] [--help] <command> [<args>]\n"
            "\n"
            "Available commands are:\n"
            "    acl            Interact with Consul's ACLs\n"
            "    agent          Runs a Proconsul agent\n"
            "    catalog        Interact with the catalog\n"
            "    event          Fire a new event\n"
            "    force-leave    Forces a member of the cluster to enter the \"left\" state\n"
            "    info           Provides debugging information for operators.\n"
            "    join           Tell Proconsul agent to join cluster\n"
            "    keygen         Generates a new encryption key\n"
            "    keyring        Manages gossip layer encryption keys\n"
            "    kv             Interact with the key-value store\n"
            "    leave          Gracefully leaves the Proconsul cluster and shuts down\n"
            "    maint          Controls node or service maintenance mode\n"
            "    members        Lists the members of a Proconsul cluster\n"
            "    operator       Provides cluster-level tools for Proconsul operators\n"
            "    reload         Triggers the agent to reload configuration files\n"
            "    rtt            Estimates network round trip time between nodes\n"
            "    services       Interact with services\n"
            "    tls            Builtin helpers for creating CAs and certificates\n"
            "    version        Prints the Proconsul version\n"
            "\n");
}

TEST(Dispatch, HelpFlagListsCommandsAndExits0) {
  for (const char* flag : {"-h", "-help", "--help"}) {
    Harness h;
    EXPECT_EQ(h.run({flag}), 0) << flag;
    EXPECT_EQ(h.err.str(), main_help() + "\n");
  }
}

TEST(Dispatch, UnknownCommandExits127) {
  Harness h;
  EXPECT_EQ(h.run({"nope"}), kExitUnknownCommand);
  EXPECT_TRUE(contains(h.err.str(), "Available commands are:"));
}

TEST(Dispatch, VersionAndVersionFlags) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"version"}, std::vector<std::string>{"-v"},
        std::vector<std::string>{"--version"}}) {
    Harness h;
    EXPECT_EQ(h.run(args), 0) << args[0];
    std::string expected = std::string("Proconsul v") + kBuildVersion + "\n";
    if (std::string_view(kBuildRevision).size() > 0) {
      expected += std::string("Revision ") + kBuildRevision + "\n";
    }
    EXPECT_EQ(h.out.str(), expected);
  }
  EXPECT_EQ(std::string(kBuildVersion), "0.1.0");
}

TEST(Dispatch, ParentCommandPrintsItsSubcommandsAndExits1) {
  Harness h;
  EXPECT_EQ(h.run({"kv"}), 1);
  const std::string err = h.err.str();
  EXPECT_EQ(err.rfind("Usage: proconsul kv <subcommand> [options] [args]", 0), 0u);
  EXPECT_TRUE(contains(err,
                       "\n\nSubcommands:\n"
                       "    delete    Removes data from the KV store\n"
                       "    get       Retrieves or lists data from the KV store\n"
                       "    put       Sets or updates data in the KV store\n"))
      << err;
  // An unknown subcommand falls back to the parent, as mitchellh/cli does.
  Harness unknown;
  EXPECT_EQ(unknown.run({"kv", "nope"}), 1);
  EXPECT_TRUE(contains(unknown.err.str(), "Subcommands:"));
  Harness help;
  EXPECT_EQ(help.run({"kv", "-h"}), 0);
  EXPECT_TRUE(contains(help.err.str(), "Subcommands:"));
}

TEST(Dispatch, CommandHelpAnywhereBeforeDoubleDash) {
  for (std::vector<std::string> args : {std::vector<std::string>{"kv", "put", "-h"},
                                        std::vector<std::string>{"kv", "put", "k", "-help"},
                                        std::vector<std::string>{"-h", "kv", "put"}}) {
    Harness h;
    EXPECT_EQ(h.run(args), 0);
    const std::string err = h.err.str();
    EXPECT_EQ(err.rfind("Usage: proconsul kv put [options] KEY [DATA]\n", 0), 0u) << err;
    // HTTP flags first, then the command's own, each sorted, as Consul's usage does.
    std::size_t http = err.find("HTTP API Options\n\n  -ca-file=<string>\n");
    std::size_t command = err.find("Command Options\n\n  -acquire\n");
    EXPECT_NE(http, std::string::npos) << err;
    EXPECT_NE(command, std::string::npos) << err;
    EXPECT_LT(http, command);
    EXPECT_TRUE(contains(err, "  -http-addr=<address>\n"));
    EXPECT_TRUE(contains(err, "  -flags=<uint>\n"));
    EXPECT_TRUE(contains(err, "  -stale\n"));
    EXPECT_TRUE(h.requests.empty());
  }
  // After "--" a "-h" is data.
  Harness h;
  h.reply(200, "true");
  EXPECT_EQ(h.run({"kv", "put", "--", "key", "-h"}), 0);
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].body, "-h");
}

TEST(Dispatch, FlagErrorsPrintTheErrorAndHelpAndExit1) {
  Harness h;
  EXPECT_EQ(h.run({"kv", "get", "-nope", "foo"}), 1);
  EXPECT_EQ(h.err.str().rfind("flag provided but not defined: -nope\n\nUsage: proconsul kv get", 0),
            0u)
      << h.err.str();
  EXPECT_TRUE(h.requests.empty());
}

TEST(HttpFlags, AddressFromFlagThenEnvThenDefault) {
  struct Case {
    std::map<std::string, std::string> env;
    std::vector<std::string> args;
    std::string url;
  };
  const Case cases[] = {
      {{}, {}, "http://127.0.0.1:8500"},
      {{{"CONSUL_HTTP_ADDR", "10.0.0.2:8501"}}, {}, "http://10.0.0.2:8501"},
      {{{"CONSUL_HTTP_ADDR", "10.0.0.2:8501"}, {"PROCONSUL_HTTP_ADDR", "http://10.0.0.3:1"}},
       {},
       "http://10.0.0.3:1"},
      {{{"PROCONSUL_HTTP_ADDR", "10.0.0.3:1"}}, {"-http-addr", "[::1]:9"}, "http://[::1]:9"},
  };
  for (const Case& c : cases) {
    Harness h;
    h.env = c.env;
    h.reply(200, R"([{"Key":"k","Value":"dg=="}])");
    std::vector<std::string> args = {"kv", "get"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    args.push_back("k");
    EXPECT_EQ(h.run(args), 0) << h.err.str();
    ASSERT_EQ(h.requests.size(), 1u);
    EXPECT_EQ(h.requests[0].target.url(), c.url);
  }
}

TEST(HttpFlags, BadAddressIsAClearError) {
  Harness h;
  EXPECT_EQ(h.run({"kv", "get", "-http-addr", "ftp://x:8501", "k"}), 1);
  EXPECT_EQ(h.err.str(), "Invalid HTTP address \"ftp://x:8501\": Unknown protocol scheme: ftp\n");
  EXPECT_TRUE(h.requests.empty());
}

TEST(HttpFlags, TlsSettingsFromFlagsThenEnv) {
  Harness h;
  h.env["CONSUL_HTTP_ADDR"] = "10.0.0.2:8501";
  h.env["CONSUL_HTTP_SSL"] = "true";
  h.env["CONSUL_CACERT"] = "/env/ca.pem";
  h.env["CONSUL_CLIENT_CERT"] = "/env/cert.pem";
  h.env["CONSUL_CLIENT_KEY"] = "/env/key.pem";
  h.env["CONSUL_TLS_SERVER_NAME"] = "server.dc1.consul";
  h.reply(200, R"([{"Key":"k","Value":"dg=="}])");
  h.reply(200, R"([{"Key":"k","Value":"dg=="}])");
  h.reply(200, R"([{"Key":"k","Value":"dg=="}])");
  EXPECT_EQ(h.run({"kv", "get", "k"}), 0) << h.err.str();
  EXPECT_EQ(h.run({"kv", "get", "-ca-file", "/flag/ca.pem", "-client-cert", "/flag/c.pem",
                   "-client-key", "/flag/k.pem", "-tls-server-name", "localhost", "k"}),
            0)
      << h.err.str();
  h.env.clear();
  h.env["CONSUL_HTTP_SSL_VERIFY"] = "false";
  EXPECT_EQ(h.run({"kv", "get", "-http-addr", "https://[::1]", "-ca-path", "/cas", "k"}), 0)
      << h.err.str();
  ASSERT_EQ(h.requests.size(), 3u);
  const HttpTarget& env = h.requests[0].target;
  EXPECT_EQ(env.url(), "https://10.0.0.2:8501");
  EXPECT_TRUE(env.tls);
  EXPECT_EQ(env.ca_file, "/env/ca.pem");
  EXPECT_EQ(env.client_cert, "/env/cert.pem");
  EXPECT_EQ(env.client_key, "/env/key.pem");
  EXPECT_EQ(env.tls_server_name, "server.dc1.consul");
  EXPECT_FALSE(env.tls_skip_verify);
  const HttpTarget& flags = h.requests[1].target;
  EXPECT_EQ(flags.ca_file, "/flag/ca.pem");
  EXPECT_EQ(flags.client_cert, "/flag/c.pem");
  EXPECT_EQ(flags.client_key, "/flag/k.pem");
  EXPECT_EQ(flags.tls_server_name, "localhost");
  const HttpTarget& bare = h.requests[2].target;
  EXPECT_EQ(bare.url(), "https://[::1]:443");
  EXPECT_EQ(bare.ca_path, "/cas");
  EXPECT_TRUE(bare.tls_skip_verify);
}

TEST(HttpFlags, TokenHeaderFromFlagOrEnv) {
  Harness h;
  h.env["CONSUL_HTTP_TOKEN"] = "from-env";
  h.reply(200, "true");
  h.reply(200, "true");
  h.reply(200, "true");
  EXPECT_EQ(h.run({"kv", "put", "a", "1"}), 0);
  EXPECT_EQ(h.run({"kv", "put", "-token=from-flag", "a", "1"}), 0);
  h.env.clear();
  EXPECT_EQ(h.run({"kv", "put", "a", "1"}), 0);
  ASSERT_EQ(h.requests.size(), 3u);
  ASSERT_NE(h.requests[0].header("X-Consul-Token"), nullptr);
  EXPECT_EQ(*h.requests[0].header("X-Consul-Token"), "from-env");
  EXPECT_EQ(*h.requests[1].header("X-Consul-Token"), "from-flag");
  EXPECT_EQ(h.requests[2].header("X-Consul-Token"), nullptr);
}

TEST(HttpAddr, ParsesConsulForms) {
  struct Case {
    const char* addr;
    const char* host;
    int port;
  };
  const Case good[] = {
      {"127.0.0.1:8500", "127.0.0.1", 8500},   {"http://localhost:18500", "localhost", 18500},
      {"HTTP://localhost:1/", "localhost", 1}, {"[::1]:8500", "::1", 8500},
      {"http://[fe80::1]:80", "fe80::1", 80},  {"example.com", "example.com", 80}};
  for (const Case& c : good) {
    core::Result<HttpTarget> t = parse_http_addr(c.addr);
    ASSERT_TRUE(t) << c.addr << ": " << t.error().message;
    EXPECT_EQ(t->host, c.host) << c.addr;
    EXPECT_EQ(t->port, c.port) << c.addr;
  }
  for (const char* bad : {"", "http://", "host:", "host:0", "host:65536", "host:8x", "::1:8500",
                          "[::1", "ftp://h:1", "unix:///tmp/s", "h:1/path"}) {
    EXPECT_FALSE(parse_http_addr(bad)) << bad;
  }
}

TEST(Encoding, KeysRoundTripThroughPercentEncoding) {
  EXPECT_EQ(kv_path("a b?c#d%e+f/g&h=i"), "/v1/kv/a%20b%3Fc%23d%25e%2Bf/g%26h%3Di");
  EXPECT_EQ(kv_path("caf\xC3\xA9"), "/v1/kv/caf%C3%A9");
  EXPECT_EQ(kv_path("plain-key_1.2~x"), "/v1/kv/plain-key_1.2~x");
  EXPECT_EQ(encode_query({}), "");
  EXPECT_EQ(encode_query({{"separator", "/"}, {"keys", ""}, {"dc", "a b"}}),
            "?dc=a%20b&keys=&separator=%2F");
}

TEST(AgentCommand, LoadsConfigAndRunsTheDaemon) {
  Harness h;
  core::AgentConfig seen;
  h.ctx.run_agent = [&seen](const core::AgentConfig& c) {
    seen = c;
    return 7;
  };
  EXPECT_EQ(h.run({"agent", "-dev", "-node", "n1", "-http-port", "0"}), 7) << h.err.str();
  EXPECT_TRUE(seen.dev);
  EXPECT_EQ(seen.node_name, "n1");
  EXPECT_EQ(seen.ports.http, 0);
  EXPECT_EQ(seen.args, (std::vector<std::string>{"-dev", "-node", "n1", "-http-port", "0"}));
}

TEST(AgentCommand, ConfigErrorsExit1) {
  Harness h;
  bool ran = false;
  h.ctx.run_agent = [&ran](const core::AgentConfig&) {
    ran = true;
    return 0;
  };
  EXPECT_EQ(h.run({"agent", "-dev", "-datacenter", "a b"}), 1);
  EXPECT_EQ(h.err.str(),
            "datacenter can only contain lowercase alphanumeric, - or _ characters. received: "
            "\"a b\"\n");
  EXPECT_FALSE(ran);

  Harness unknown;
  EXPECT_EQ(unknown.run({"agent", "-nope"}), 1);
  EXPECT_EQ(unknown.err.str(), "flag provided but not defined: -nope\n");
}

TEST(AgentCommand, HelpListsTheAgentFlags) {
  Harness h;
  EXPECT_EQ(h.run({"agent", "-h"}), 0);
  EXPECT_EQ(h.err.str().rfind("Usage: proconsul agent [options]\n", 0), 0u);
  EXPECT_TRUE(contains(h.err.str(), "  -retry-join=<value>\n"));
  EXPECT_TRUE(contains(h.err.str(), "  -config-file=<value>\n"));
}

TEST(AgentCommand, WithoutADaemonExits1) {
  Harness h;
  EXPECT_EQ(h.run({"agent", "-dev"}), 1);
  EXPECT_EQ(h.err.str(), "This build of proconsul has no agent.\n");
}

}  // namespace
}  // namespace pc::cli
