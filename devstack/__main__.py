from simptu.devstack.cli import main

raise SystemExit(main())
