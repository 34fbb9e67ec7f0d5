// kdfs command-line client entry point (being written).
int main() { return 0; }
