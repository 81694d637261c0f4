"""A local stand-in for the parts of Microsoft's cloud that partnercenter.secure_app uses.

Identity platform (v2.0 endpoints), Microsoft Graph, Key Vault secrets, Partner Center and
Resource Manager, served over HTTPS on 127.0.0.1 so that the unmodified msal, azure-identity
and azure-keyvault-secrets libraries work against it. Not part of the built collection.
"""
