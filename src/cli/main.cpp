#include "ntks/cli/app.h"

int main(int argc, char** argv) { return ntks::cli::main_entry(argc, argv); }
