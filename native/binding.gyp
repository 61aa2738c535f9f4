# The native kernel tier. Node-API 8 is pinned so that one build loads in every Node version from 20 on.
{
  'targets': [
    {
      'target_name': 'simdws',
      'sources': ['src/addon.cc'],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
      'defines': [
        'NAPI_VERSION=8',
        'NAPI_DISABLE_CPP_EXCEPTIONS',
        'NODE_ADDON_API_DISABLE_DEPRECATED',
      ],
      'cflags': ['-O3'],
      'cflags_cc!': ['-std=gnu++17'],
      'cflags_cc': ['-std=c++17'],
      'xcode_settings': {
        'GCC_OPTIMIZATION_LEVEL': '3',
        'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
      },
      'msvs_settings': {
        'VCCLCompilerTool': {
          'Optimization': 2,
          'AdditionalOptions': ['/std:c++17'],
        },
      },
    },
  ],
}
