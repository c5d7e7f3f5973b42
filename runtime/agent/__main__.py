from simptu.runtime.agent.cli import main

raise SystemExit(main())
