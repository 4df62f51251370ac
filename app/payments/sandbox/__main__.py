from app.payments.sandbox.server import main

main()
