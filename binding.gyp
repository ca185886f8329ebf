{
  # Every Node addon is built and linked hardened as the module is (stack protector, FORTIFY,
  # relro and bindnow).
  "variables": {
    "addon_cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2"],
    "addon_ldflags": ["-Wl,-z,relro", "-Wl,-z,now"]
  },
  "targets": [
    {
      # Generates build/<config>/gen/pam_mapi_protocol.h from the single protocol definition.
      "target_name": "protocol_header",
      "type": "none",
      "hard_dependency": 1,
      "actions": [
        {
          "action_name": "generate_protocol_header",
          "inputs": ["src/protocol/constants.json", "scripts/gen-protocol-header.js"],
          "outputs": ["<(SHARED_INTERMEDIATE_DIR)/pam_mapi_protocol.h"],
          "action": ["node", "scripts/gen-protocol-header.js", "src/protocol/constants.json",
                     "<(SHARED_INTERMEDIATE_DIR)/pam_mapi_protocol.h"]
        }
      ],
      "direct_dependent_settings": { "include_dirs": ["<(SHARED_INTERMEDIATE_DIR)"] }
    },
    {
      # The PAM module itself: a plain shared object that links libpam only. It is not a
      # Node addon; node-gyp is only the build driver.
      "target_name": "pam_mapi",
      "type": "shared_library",
      "product_prefix": "",
      "product_extension": "so",
      "dependencies": ["protocol_header"],
      "sources": ["native/shim/pam_mapi.c", "native/shim/channel.c", "native/shim/frame.c"],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-Wformat=2", "-Wshadow", "-fvisibility=hidden",
                 "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2", "-D_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "ldflags": ["-Wl,--version-script=<(module_root_dir)/native/shim/pam_mapi.map",
                  "-Wl,-z,defs", "-Wl,-z,relro", "-Wl,-z,now", "-Wl,--as-needed", "-nodefaultlibs"],
      "libraries": ["-lpam", "-lc"]
    },
    {
      # A load generator of whole PAM transactions from C threads: for bench/ and valgrind runs.
      "target_name": "pam_load",
      "type": "executable",
      "sources": ["native/tools/pam_load.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-pthread"],
      "ldflags": ["-pthread"],
      "libraries": ["-lpam"]
    },
    {
      # The worker's addon: the peer's credentials (SO_PEERCRED, SO_PEERGROUPS) and
      # prctl(PR_SET_DUMPABLE). It links no libpam, so the worker never loads it.
      "target_name": "peer_credentials",
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "sources": ["native/peer/peer_credentials.cc"],
      "cflags_cc": ["<@(addon_cflags_cc)"],
      "ldflags": ["<@(addon_ldflags)"]
    },
    {
      # The system's crypt(3) (libxcrypt's crypt_rn) on libuv's thread pool, for every store's
      # crypt schemes. Needs Debian's libcrypt-dev to build.
      "target_name": "system_crypt",
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except",
                       "protocol_header"],
      "sources": ["native/crypt/crypt.cc"],
      "cflags_cc": ["<@(addon_cflags_cc)"],
      "ldflags": ["<@(addon_ldflags)"],
      "libraries": ["-lcrypt"]
    },
    {
      # The Node addon: a real libpam client, for tests, the demo and the CLI.
      "target_name": "pam_client",
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "sources": ["native/addon/pam_client.cc"],
      "cflags_cc": ["<@(addon_cflags_cc)"],
      "ldflags": ["<@(addon_ldflags)"],
      "libraries": ["-lpam"]
    },
    {
      # The krb5 store's check: MIT krb5 (libkrb5) on libuv's thread pool; docs/kerberos.md.
      "target_name": "krb5_check",
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "sources": ["native/krb5/krb5_check.cc"],
      "cflags_cc": ["<@(addon_cflags_cc)"],
      "ldflags": ["<@(addon_ldflags)"],
      "libraries": ["-lkrb5"]
    }
  ]
}
