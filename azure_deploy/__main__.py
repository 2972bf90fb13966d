from azure_deploy.cli import main

raise SystemExit(main())
