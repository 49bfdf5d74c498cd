// `ntk-select config`: show the resolved configuration.

#include <iostream>

#include "command.h"
#include "ntks/config/load.h"
#include "ntks/util/strings.h"

namespace ntks::cli {

Command config_command() {
  Command c;
  c.name = "config";
  c.summary = "print the resolved config (defaults < --config < --set) as YAML, its hash, or its keys";
  c.description =
      "Resolves the configuration exactly as every other command does and prints it.\n"
      "The dump is valid input for --config; the hash is what stage manifests record\n"
      "(it does not change with key order or formatting).";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("dump", "print the resolved config as commented YAML (the default)")
        ("no-comments", "with --dump: leave out the comment on each key")
        ("hash", "print the 16-hex-digit hash of the resolved config")
        ("keys", "print every valid key, one per line");
  };
  c.run = [](Context& ctx) {
    if (!ctx.comm.is_root()) return 0;  // one copy, not one per rank
    if (ctx.args.count("hash")) {
      std::cout << config::hash(ctx.cfg) << "\n";
    } else if (ctx.args.count("keys")) {
      std::cout << join(config::all_keys(), "\n") << "\n";
    } else {
      std::cout << config::dump_yaml(ctx.cfg, ctx.args.count("no-comments") == 0);
    }
    return 0;
  };
  return c;
}

}  // namespace ntks::cli
