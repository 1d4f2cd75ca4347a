/* The brokers ("agentes") behind the simulator's trades and offers: a fixed table of B3 broker
 * codes with their short and full names, served by GetAgentNameLength and GetAgentName as
 * API.md has them (the length first, NUL included, then the name into a buffer of that many
 * units). market.c draws every trade's buyer and seller and every offer's agent from it. */
#include "sim.h"
#include "wstr.h"

typedef struct {
  int32_t id;
  const wchar16 *shortName, *name;
} SimAgent;

#define W(s) ((const wchar16 *)u##s)
static const SimAgent AGENTS[] = {
    {3, W("XP"), W("XP Investimentos CCTVM S.A.")},
    {8, W("UBS"), W("UBS Brasil CCTVM S.A.")},
    {15, W("Guide"), W("Guide Investimentos S.A. CV")},
    {27, W("Santander"), W("Santander CCVM S.A.")},
    {39, W("Ágora"), W("Ágora CTVM S.A.")},
    {45, W("Credit Suisse"), W("Credit Suisse Brasil S.A. CTVM")},
    {72, W("Bradesco"), W("Bradesco S.A. CTVM")},
    {85, W("BTG"), W("BTG Pactual CTVM S.A.")},
    {90, W("Easynvest"), W("Easynvest - Título CV S.A.")},
    {114, W("Itaú"), W("Itaú Corretora de Valores S.A.")},
    {120, W("Genial"), W("Genial Institucional CCTVM S.A.")},
    {127, W("Tullett"), W("Tullett Prebon Brasil CVC Ltda.")},
    {238, W("Goldman"), W("Goldman Sachs do Brasil CTVM S.A.")},
    {308, W("Clear"), W("Clear CTVM S.A.")},
    {1982, W("Modal"), W("Modal DTVM Ltda.")},
};
#define N_AGENTS ((int)(sizeof AGENTS / sizeof AGENTS[0]))

int sim_agent_count(void) { return N_AGENTS; }
int32_t sim_agent_id(int i) { return AGENTS[i].id; }

static const wchar16 *agent_name(int32_t agentId, uint32_t shortName) {
  for (int i = 0; i < N_AGENTS; i++)
    if (AGENTS[i].id == agentId) return shortName ? AGENTS[i].shortName : AGENTS[i].name;
  return NULL;
}

/* The units the name needs, its NUL included; NL_NOT_FOUND for an agent the DLL does not know. */
PDLL_EXPORT int32_t PDLL_CALL GetAgentNameLength(int32_t agentId, uint32_t shortName) {
  const wchar16 *name = agent_name(agentId, shortName);
  return name ? (int32_t)wlen(name) + 1 : NL_NOT_FOUND;
}

/* The name into buffer (length units, NUL included); a buffer too short is refused, not cut. */
PDLL_EXPORT int32_t PDLL_CALL GetAgentName(int32_t length, int32_t agentId, wchar16 *buffer, uint32_t shortName) {
  const wchar16 *name = agent_name(agentId, shortName);
  if (!name) return NL_NOT_FOUND;
  if (!buffer || length < (int32_t)wlen(name) + 1) return NL_INVALID_ARGS;
  wcopy(buffer, name, (size_t)length);
  return NL_OK;
}
