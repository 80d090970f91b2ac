# One image for every Reten process; docker-compose.yml picks the entry point per service.
# Build: docker build -t reten:local .   (docker compose build does it for the stack)

# ---- build: all dependencies, TypeScript build -------------------------------------------
FROM node:22-bookworm-slim AS build
ENV CI=true
RUN npm i -g pnpm@10
WORKDIR /app
# Only the lockfile first: the dependency download stays cached until the lockfile changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
COPY . .
# build with every dependency, then reinstall production dependencies only for the runtime stage
# (the console, packages/console, is built after tsc: its API types come from the compiled gateway)
RUN pnpm install --frozen-lockfile --offline \
 && pnpm exec tsc -b \
 && node packages/console/scripts/build.mjs \
 && find . -name node_modules -type d -prune -exec rm -rf {} + \
 && pnpm install --frozen-lockfile --offline --prod

# ---- runtime: compiled JavaScript and production dependencies only -----------------------
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/pnpm-workspace.yaml ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages ./packages
COPY --from=build /app/services ./services
COPY --from=build /app/infra ./infra
# the auth bootstrap writes the development key here (compose mounts it from the host)
RUN mkdir -p /app/.reten && chown node:node /app/.reten
USER node
EXPOSE 8080 8081 8082 8083
CMD ["node", "services/gateway/dist/main.js"]
