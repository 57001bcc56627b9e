from xiaobao.cli import main

main()
