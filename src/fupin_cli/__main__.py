from fupin_cli.cli import main

main()
